"""Checker commands: ``check``, ``bench check``, ``eval-checker``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from onprem_bot.cli import cli
from onprem_bot.cli.common import print_json
from onprem_bot.cli.retrieval import bench
from onprem_bot.errors import OnpremBotError

_REPO = Path(__file__).resolve().parents[2]
_MARK = {True: "✓", False: "✗", None: "?"}
_VERDICTS = {"pass": "통과", "corrected": "수정함", "flagged": "확인 필요"}
_KINDS = {
    "number": "수치",
    "percent": "비율",
    "money": "금액",
    "year": "연도",
    "date": "날짜",
    "time": "시각",
    "reference": "조문",
}
_REASONS = {
    "found": "출처와 일치",
    "label": "출처 조문",
    "mentioned": "출처에 언급됨",
    "other_source": "다른 출처에 있음",
    "computed": "출처 값으로 계산됨",
    "unverifiable": "확인 불가",
    "not_found": "출처에 없음",
    "not_in_context": "출처에 있으나 다른 맥락",
    "other_context": "출처에서는 다른 값",
    "swapped": "값이 뒤바뀜",
    "reattached": "다른 조건의 값",
    "law_not_in_sources": "출처에 없는 법령",
    "not_in_sources": "출처에 없는 조문",
}


def _analyzer() -> Any:
    from onprem_bot.korean.analyzer import KoreanAnalyzer

    return KoreanAnalyzer()


@cli.command(name="check")
@click.option("--answer", "answer", required=True, help="검사할 답변 ('-': 표준 입력)")
@click.option("--sources", "first", required=True, type=click.Path(path_type=Path), help="출처 파일 (여러 개 가능)")
@click.argument("more", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력")
def check_command(answer: str, first: Path, more: tuple[Path, ...], as_json: bool) -> None:
    """답변의 숫자·금액·비율·날짜·조문 인용을 출처와 대조합니다 (hallucination check).

    --sources FILE... : [1], [2]… in order; .json/.jsonl (search --json output, objects with text,
    doc_title, article, location, n) or any document the ingest command reads.
    """
    from onprem_bot.checker import Checker
    from onprem_bot.checker.sources import read_answer, read_sources

    text = read_answer(answer)
    sources = read_sources([first, *more])
    result = Checker(_analyzer()).run(text, sources)
    if as_json:
        print_json({**result.as_json(), "text": result.text, "highlighted": result.highlighted})
        return
    click.echo(summary(result))


def summary(result: Any) -> str:
    """The check result as readable Korean lines (verdict, one line per fact, the corrected text)."""
    lines = [f"판정: {_VERDICTS.get(result.verdict, result.verdict)} ({result.verdict})"]
    if not result.findings:
        lines.append("  검사할 수치·날짜·조문이 없습니다 (no checkable facts)")
    for f in result.findings:
        where = f" — [{f['n']}] {f['source']}" if f.get("n") else ""
        fix = f" → {f['suggestion']}" if f.get("suggestion") else ""
        kind = _KINDS.get(str(f["kind"]), str(f["kind"]))
        reason = _REASONS.get(str(f["reason"]), str(f["reason"]))
        lines.append(f"  {_MARK[f['supported']]} {kind} {f['surface']}{fix}: {reason}{where}")
    if result.verdict == "corrected":
        lines.append(f"수정된 답변: {result.text}")
    elif result.verdict == "flagged":
        lines.append(f"문제 표시: {result.highlighted}")
    return "\n".join(lines)


@bench.command(name="check")
@click.option("--answers", type=click.IntRange(5, 5000), default=200, show_default=True, help="답변 수")
@click.option("--repeats", type=click.IntRange(1, 50), default=3, show_default=True, help="답변마다 반복 횟수")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), help="법령 폴더 (default: corpus/)")
@click.option("--json", "as_json", is_flag=True)
def bench_check(answers: int, repeats: int, corpus: Path | None, as_json: bool) -> None:
    """검사기 지연시간: 300자 답변, 출처 5개 (checker latency)."""
    from onprem_bot.bench.check import run_check_benchmark

    corpus = corpus or _REPO / "corpus"
    if not corpus.is_dir():
        raise OnpremBotError(f"{corpus}: 법령 폴더가 없습니다 (corpus folder not found)")
    report = run_check_benchmark(corpus, answers, _analyzer(), repeats=repeats)
    if as_json:
        print_json(report)
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in report.items()))


@cli.command(name="eval-checker")
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    help="법령(laws/)과 규정 PDF(docs/pdf_kisa/)가 있는 폴더 (default: ../shared/data, else corpus/)",
)
@click.option("--limit", type=click.IntRange(10, 100_000), default=600, show_default=True, help="정답 수")
@click.option("--no-pdf", is_flag=True, help="규정 PDF 제외 (faster)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON으로 출력 (misses and false alarms included)")
def eval_checker(data: Path | None, limit: int, no_pdf: bool, seed: int, as_json: bool) -> None:
    """검사기 평가: 변조한 답변의 재현율과 정답의 오탐률 (vs a naive number matcher)."""
    from onprem_bot.checker import Checker
    from onprem_bot.eval.checker import build_cases, dev_articles, evaluate, format_report, load_documents

    if data is None:
        shared = _REPO.parent / "shared" / "data"
        data = shared if shared.is_dir() else _REPO / "corpus"
    if not data.is_dir():
        raise OnpremBotError(f"{data}: 평가 데이터 폴더가 없습니다 (data folder not found)")
    docs = load_documents(data, pdfs=not no_pdf)
    if not docs:
        raise OnpremBotError(f"{data}: 법령 문서가 없습니다 (no statute .md or regulation .pdf found)")
    wanted = dev_articles(_REPO / "onprem_bot" / "data" / "eval" / "statutes_dev.jsonl")
    cases = build_cases(docs, limit, seed=seed, wanted=wanted)
    checker = Checker(_analyzer())
    checker.warm_up()
    report = evaluate(checker, cases, seed=seed + 1, progress=None if as_json else lambda m: click.echo(m, err=True))
    report["data"] = str(data)
    if as_json:
        print_json(report)
    else:
        click.echo(format_report(report))
