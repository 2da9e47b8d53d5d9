"""Answer figures per question kind (onprem_bot.eval.by_kind)."""

from __future__ import annotations

from onprem_bot.eval.by_kind import by_kind, quoted_chars


def test_quoted_chars_leave_the_leads_out() -> None:
    assert quoted_chars('근로기준법 제60조 제1항에 따르면, "15일의 유급휴가" [1]\n민법에 따르면, "1일" [2]') == 11


def test_figures_per_kind_and_overall() -> None:
    details = [
        {"cites_gold": True, "keywords_missing": [], "answer": '"aaaa" [1]'},
        {"cites_gold": False, "keywords_missing": ["80,000"], "answer": '"aa" [1]'},
        {"cites_gold": True, "keywords_missing": [], "answer": ""},
    ]
    rows = [{"kind": "table"}, {"kind": "table"}, {"kind": "article"}]
    found = by_kind(details, rows)
    assert found["table"] == {"n": 2, "cited": 0.5, "value": 0.5, "median_quoted": 3.0}
    assert found["overall"]["n"] == 3 and found["article"]["cited"] == 1.0
