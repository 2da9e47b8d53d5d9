"""Every command-line error is one Korean line on stderr and a non-zero exit, option errors included."""

from __future__ import annotations

import pytest

from onprem_bot.cli import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["search", "연차", "-k", "0"], "'-k'"),
        (["search", "연차", "--mode", "foo"], "'--mode'"),
        (["nosuch"], "nosuch"),
        (["faq", "match"], "QUESTION"),
    ],
)
def test_usage_errors_are_one_korean_line(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert err.startswith("오류: ") and "\n" not in err and says in err and "--help" in err


def test_faq_match_refuses_an_over_long_question_like_search(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["faq", "match", "가" * 20_000])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code != 0 and err.startswith("오류: 질문이 너무 깁니다") and "\n" not in err
