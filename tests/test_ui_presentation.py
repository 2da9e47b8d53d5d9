"""Safe Markdown, badges and the highlighted supporting sentence (onprem_bot.presentation)."""

from __future__ import annotations

import re

from onprem_bot.presentation import (
    answer_badges,
    citation_title,
    escape_markdown,
    finding_line,
    highlight_segments,
    highlighted_markdown,
)
from onprem_bot.types import Answer, Check, Citation
from tests.ui_helpers import plain


def test_escaped_markdown_keeps_the_text_and_disarms_markup() -> None:
    text = "<script>alert(1)</script> ![x](http://e.x/a.png) **굵게** :red[빨강] $x$\n    코드블록 아님\n1. 목록"
    escaped = escape_markdown(text)
    assert "<script>" not in escaped and "![" not in escaped and "**" not in escaped and ":red[" not in escaped
    assert plain(escaped).replace("\u00a0", " ") == text


def test_supporting_sentence_is_found_exactly_or_across_line_breaks() -> None:
    source = "제60조(연차 유급휴가)\n① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게\n15일의 유급휴가를 주어야 한다."
    snippet = "사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다."
    segments = highlight_segments(source, snippet)
    assert [mark for _, mark in segments] == [False, True]
    assert segments[1][0].startswith("사용자는") and segments[1][0].endswith("한다.")
    md = highlighted_markdown(source, snippet)
    assert md.count(":orange-background[") == 2  # one per line of the sentence
    assert highlight_segments(source, "없는 문장") == [(source, False)]


def test_badges_and_labels() -> None:
    cite = Citation(1, "근로기준법", "제60조", "제60조 제1항", 3, "c1", "…")
    assert citation_title(cite) == "[1] 근로기준법 제60조 제1항 p.3"
    flagged = Answer("…", "extractive", (cite,), Check("flagged", ({"supported": False, "surface": "20일"},)))
    assert answer_badges(flagged) == ":orange-badge[원문 인용] :red-badge[확인 필요]"
    assert answer_badges(Answer("…", "faq")) == ":blue-badge[FAQ]"
    assert finding_line(
        {"supported": False, "surface": "20일", "suggestion": "15일", "old": "20일", "new": "15일"}
    ) == ("수정됨: 20일 → 15일")
    assert "확인되지 않음" in finding_line({"supported": False, "surface": "20일", "suggestion": None})


def test_a_verbatim_quote_gets_no_verdict_badge_but_a_checked_answer_does() -> None:
    from onprem_bot.presentation import verdict_badge
    from onprem_bot.types import Answer

    assert verdict_badge(Answer('근로기준법 제53조: "1주 간에 12시간" [1]', "extractive")) is None
    assert verdict_badge(Answer("12시간입니다 [1]", "rag")) is not None


def test_findings_get_material_icons_not_emoji() -> None:
    from onprem_bot.presentation import finding_icon

    assert finding_icon({"supported": True}) == ":green[:material/check_circle:]"
    assert finding_icon({"supported": False, "suggestion": "15일"}) == ":orange[:material/edit:]"
    assert finding_icon({"supported": False}) == ":red[:material/warning:]"
    assert finding_icon({}) == ":gray[:material/help:]"
    emoji = re.compile("[\u2600-\u27bf\ufe0f\U0001f000-\U0001ffff]")
    for finding in ({"supported": True, "surface": "15일"}, {"supported": None, "surface": "3%"}):
        assert not emoji.search(finding_line(finding))


def test_searched_question_caption_is_escaped_and_only_for_rewritten_follow_ups() -> None:
    from onprem_bot.presentation import searched_caption

    assert searched_caption(Answer("…", "rag")) is None
    assert searched_caption(Answer("…", "rag", standalone_question="  ")) is None
    caption = searched_caption(Answer("…", "rag", standalone_question="차량 지원 시 <b>시내</b> 출장비 [링크](x)"))
    assert caption is not None and caption.startswith("검색한 질문: ")
    assert "<b>" not in caption and "](" not in caption
    assert plain(caption) == "검색한 질문: 차량 지원 시 <b>시내</b> 출장비 [링크](x)"


def test_conversation_label_is_one_short_line_with_the_message_count() -> None:
    from onprem_bot.presentation import conversation_label

    assert conversation_label("연차는 며칠인가요?", 2) == "연차는 며칠인가요? · 2"
    long = conversation_label("시내 출장비는\n하루에 얼마예요? 차량을 지원받으면 달라지나요? 숙박은요?", 3)
    assert "\n" not in long and long.endswith("… · 3") and len(long.split(" · ")[0]) == 30
    assert conversation_label("", 0) == "(질문 없음) · 0"
