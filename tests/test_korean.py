"""Korean text: normalisation, the BM25 analyser, the synonym dictionary, references in questions."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from onprem_bot.korean import analyzer as analyzer_module
from onprem_bot.korean.analyzer import DEFAULT_STOPWORDS, KoreanAnalyzer
from onprem_bot.korean.normalize import normalize, normalize_spacing_for_refs
from onprem_bot.korean.query import QueryRefs, detect_references
from onprem_bot.korean.synonyms import SynonymDictionary

TITLES = ("근로기준법", "근로기준법 시행령", "개인정보 보호법", "주택임대차보호법", "상가건물 임대차보호법", "급여규정")


@pytest.fixture(scope="module")
def analyzer() -> KoreanAnalyzer:
    return KoreanAnalyzer()


@pytest.fixture(scope="module")
def synonyms() -> SynonymDictionary:
    return SynonymDictionary.default()


def test_normalize_nfkc_quotes_invisible_and_whitespace() -> None:
    assert normalize("ＡＢＣ１２３") == "ABC123"
    assert normalize("“근로자”란 ‘사용자’") == "\"근로자\"란 '사용자'"
    assert normalize("「근로기준법」 『민법』") == "「근로기준법」 『민법』"
    assert normalize("근로\u200b자\ufeff") == "근로자"
    assert normalize("  근로자\u3000\u00a0 는\n\t사용자  ") == "근로자 는 사용자"
    assert normalize("") == ""
    assert normalize("① 사용자는 ②") == "① 사용자는 ②"  # circled paragraph numbers are not NFKC'd


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("제 60 조", "제60조"),
        ("제6조 의3", "제6조의3"),
        ("제6조의 3에 따라", "제6조의3에 따라"),
        ("제6조의 3개월", "제6조의 3개월"),
        ("제60 조 제 1 항", "제60조 제1항"),
        ("제23조제1항제6호", "제23조 제1항 제6호"),
        ("제60조의2제1항", "제60조의2 제1항"),
        ("근로자 60명", "근로자 60명"),
    ],
)
def test_normalize_spacing_for_refs(text: str, expected: str) -> None:
    assert normalize_spacing_for_refs(text) == expected


def test_particles_are_dropped(analyzer: KoreanAnalyzer) -> None:
    for word in ("근로자는", "근로자가", "근로자를", "근로자에게"):
        assert analyzer.tokens(word) == ["근로자"]
    assert analyzer.tokens("근로자는 사업장에서 법원으로") == ["근로자", "사업장", "법원"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30일", ["30일"]),
        ("1년간", ["1년"]),
        ("80퍼센트", ["80%"]),
        ("80%", ["80%"]),
        ("80프로", ["80%"]),
        ("100분의 50", ["100분의50"]),
        ("100분의50", ["100분의50"]),
        ("2분의 1", ["2분의1"]),
        ("1,000억원", ["1000억원"]),
        ("9,860원", ["9860원"]),
        ("1.5배", ["1.5배"]),
        ("3개월", ["3개월"]),
        ("오후 10시", ["10시"]),
        ("3조원", ["3조원"]),
    ],
)
def test_numbers_keep_their_units(analyzer: KoreanAnalyzer, text: str, expected: list[str]) -> None:
    assert analyzer.tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("제60조", ["제60조"]),
        ("제6조의3", ["제6조의3"]),
        ("제6조 의3", ["제6조의3"]),
        ("제 60 조", ["제60조"]),
        ("60조", ["제60조"]),
        ("60조의2", ["제60조의2"]),
        ("제1항", ["제1항"]),
        ("제2호", ["제2호"]),
        ("제23조제1항에 따라", ["제23조", "제1항"]),
        ("제6조의 규정", ["제6조", "규정"]),
        ("제3자", ["제3자"]),
    ],
)
def test_legal_references_are_single_tokens(analyzer: KoreanAnalyzer, text: str, expected: list[str]) -> None:
    assert analyzer.tokens(text) == expected


def test_colloquial_question_keeps_content(analyzer: KoreanAnalyzer) -> None:
    assert analyzer.tokens("봉급을 못 받았어요") == ["봉급", "받"]
    assert analyzer.tokens("해고하다") == ["해고"]
    assert analyzer.tokens("짤렸어요") == ["짤리"]
    assert analyzer.tokens("짤리다") == ["짤리"]


def test_stopwords_latin_and_suffixes(analyzer: KoreanAnalyzer) -> None:
    assert analyzer.tokens("할 수 있는 것 및 등 경우") == []
    assert analyzer.tokens("The Python API of iPhone") == ["python", "api", "iphone"]
    # a noun + suffix gives the noun and the derived word
    assert analyzer.tokens("사용자는") == ["사용", "사용자"]
    assert analyzer.tokens("사용자들") == ["사용", "사용자"]
    assert KoreanAnalyzer(stopwords=[]).tokens("경우") == ["경우"]
    assert "것" in DEFAULT_STOPWORDS and "the" in DEFAULT_STOPWORDS


def test_analyzer_on_a_statute_sentence(analyzer: KoreanAnalyzer) -> None:
    text = (
        "**①** 사용자는 연장근로와 야간근로 또는 휴일근로에 대하여는 통상임금의 100분의 50 이상을 "
        "가산하여 근로자에게 지급하여야 한다. 「근로기준법」 제56조제1항에 따른다."
    )
    tokens = analyzer.tokens(text)
    for expected in ("사용자", "연장", "근로", "야간", "휴일", "통상", "임금", "100분의50", "가산", "근로자"):
        assert expected in tokens
    assert tokens[-2:] == ["제56조", "제1항"]
    for dropped in ("는", "와", "의", "을", "에게", "한다", ".", "**", "①", "하", "것"):
        assert dropped not in tokens


def test_tokens_many_and_empty(analyzer: KoreanAnalyzer) -> None:
    assert analyzer.tokens("") == []
    assert analyzer.tokens("   \u200b ") == []
    assert analyzer.tokens_many(["월급", "", "제60조"]) == [["월급"], [], ["제60조"]]


def test_fast_lattice_path_matches_mecab_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    text = normalize("제 60 조 ① 사용자는 1,000억원을 80퍼센트로 짤렸어요. Python3 「민법」 ＡＢＣ")
    fast = analyzer_module._analyse(text)

    public = SimpleNamespace(parse=analyzer_module.mecab().parse)  # no inner tagger: the public parse() path
    monkeypatch.setattr(analyzer_module, "mecab", lambda: public)
    assert analyzer_module._analyse(text) == fast


def test_long_text_offsets_stay_linear(analyzer: KoreanAnalyzer) -> None:
    text = "근로자는 제60조에 따라 30일 전에 예고한다. " * 2000
    tokens = analyzer.tokens(text)
    assert tokens[:5] == ["근로자", "제60조", "30일", "전", "예고"]
    assert len(tokens) == 5 * 2000


def test_packaged_dictionary_loads_and_expand_does_not_repeat(
    analyzer: KoreanAnalyzer, synonyms: SynonymDictionary
) -> None:
    assert len(synonyms) >= 150
    assert synonyms.entries["봉급"] == ("임금", "급여")
    assert synonyms.entries["야근"] == ("연장근로", "야간근로")
    tokens = analyzer.tokens("월급 봉급 임금 급여")
    assert synonyms.expand(tokens, analyzer) == tokens  # 임금 and 급여 are already there
    assert synonyms.expand([], analyzer) == []


@pytest.mark.parametrize(
    ("question", "added"),
    [
        ("봉급을 못 받았어요", {"임금"}),
        ("회사에서 짤렸어요", {"해고"}),
        ("집주인이 전세금을 안 돌려줘요", {"임대인", "보증금", "반환"}),
        ("세입자인데 월세를 올려달래요", {"임차인", "차임"}),
        ("야근하면 수당 더 받나요", {"연장", "야간"}),
        ("음주운전으로 면허 정지", {"술", "혈중", "벌점"}),
        ("정리해고를 당했어요", {"경영상"}),
        ("개인정보가 털렸어요", {"유출"}),
        ("전세 계약 기간이 어떻게 돼요", {"임대차", "주택"}),  # 전세 is a 주택 임대차, not 민법's 전세권
        ("집주인이 바뀌면", {"주택", "임대인"}),
        ("건물주가 나가래요", {"임대인"}),
        ("최저임금보다 적게 줘도 되나요", {"미만", "미치"}),  # 최저임금액에 미치지 못하는
    ],
)
def test_expand_adds_legal_terms(
    analyzer: KoreanAnalyzer, synonyms: SynonymDictionary, question: str, added: set[str]
) -> None:
    tokens = analyzer.tokens(question)
    expanded = synonyms.expand(tokens, analyzer)
    assert expanded[: len(tokens)] == tokens
    assert added <= set(expanded[len(tokens) :])


def test_expand_matches_multi_token_keys_only_in_sequence(analyzer: KoreanAnalyzer) -> None:
    d = SynonymDictionary({"보증금 못 받다": ("보증금의 회수",)})
    assert "회수" in d.expand(analyzer.tokens("보증금을 못 받았어요"), analyzer)
    assert d.expand(analyzer.tokens("받은 보증금"), analyzer) == analyzer.tokens("받은 보증금")


def test_expand_avoids_under_analysed_key_variants(analyzer: KoreanAnalyzer) -> None:
    # 정리해고 alone is read as 정리 + a verb; the key must not fire on every 정리
    d = SynonymDictionary({"정리해고": ("경영상 이유에 의한 해고",)})
    assert "경영상" in d.expand(analyzer.tokens("정리해고를 당했어요"), analyzer)
    assert d.expand(["정리", "서류"], analyzer) == ["정리", "서류"]


def test_key_whose_start_the_analyser_drops_is_matched_on_the_question_text(analyzer: KoreanAnalyzer) -> None:
    # Mecab reads 재계약 as 재 (a prefix, dropped) + 계약: as a token key it would fire on every 계약
    d = SynonymDictionary({"재계약": ("계약갱신",), "무면허": ("무면허운전",)})
    for question in ("전세 계약 기간이 어떻게 되나요", "면허 정지 기간"):
        tokens = analyzer.tokens(question)
        assert d.expand(tokens, analyzer, question) == tokens
    question = "재계약 요구하는 권리 몇 번까지 쓸 수 있어요?"
    tokens = analyzer.tokens(question)
    assert "갱신" in d.expand(tokens, analyzer, question)
    assert "갱신" in d.expand(analyzer.tokens("재 계약"), analyzer, "재 계약")  # spaces do not matter
    assert d.expand(tokens, analyzer) == tokens  # without the question's text such a key cannot be found


def test_packaged_keys_do_not_fire_on_the_shorter_word(analyzer: KoreanAnalyzer, synonyms: SynonymDictionary) -> None:
    question = "전세 계약을 1년으로 하면 기간이 어떻게 되나요?"
    assert "갱신" not in synonyms.expand(analyzer.tokens(question), analyzer, question)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_later_files_override_and_missing_files_are_skipped(tmp_path: Path) -> None:
    first = write(tmp_path / "a.tsv", "# comment\n\n월급\t임금\n야근\t연장근로\n")
    second = write(tmp_path / "b.tsv", "야근\t야간근로,휴일근로\n칼퇴\t근로시간\n")
    d = SynonymDictionary.load([first, tmp_path / "missing.tsv", second])
    assert len(d) == 3
    assert d.entries["월급"] == ("임금",)
    assert d.entries["야근"] == ("야간근로", "휴일근로")
    assert d.entries["칼퇴"] == ("근로시간",)


def test_default_with_user_file(tmp_path: Path, analyzer: KoreanAnalyzer, synonyms: SynonymDictionary) -> None:
    user = write(tmp_path / "user.tsv", "봉급\t보수\n복지포인트\t복리후생비\n")
    d = SynonymDictionary.default(extra=[user])
    assert len(d) == len(synonyms) + 1
    assert d.entries["봉급"] == ("보수",)
    assert "복리" in d.expand(analyzer.tokens("복지포인트 사용"), analyzer)
    assert "보수" in d.expand(analyzer.tokens("봉급"), analyzer)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("월급 임금\n", "bad.tsv:1"),
        ("월급\t임금\n야근\t연장\t근로\n", "bad.tsv:2"),
        ("# c\n\t임금\n", "bad.tsv:2"),
        ("월급\t\n", "bad.tsv:1"),
        ("월급\t임금,,급여\n", "bad.tsv:1"),
        ("월급\t임금\n월급\t급여\n", "bad.tsv:2"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    bad = write(tmp_path / "bad.tsv", content)
    with pytest.raises(ValueError, match=message):
        SynonymDictionary.load([bad])


def test_detect_titles_ignoring_spaces_and_brackets() -> None:
    refs = detect_references("「개인정보보호법」상 동의 없이 수집하면?", TITLES)
    assert refs == QueryRefs(statutes=("개인정보 보호법",), articles=())
    assert detect_references("상가건물임대차보호법 적용", TITLES).statutes == ("상가건물 임대차보호법",)
    assert detect_references("급여 규정에 따른 수당", TITLES).statutes == ("급여규정",)
    assert detect_references("연차는 며칠인가요", TITLES).statutes == ()


def test_detect_prefers_longest_title() -> None:
    assert detect_references("근로기준법 시행령 제30조", TITLES).statutes == ("근로기준법 시행령",)
    both = detect_references("근로기준법과 근로기준법시행령 비교", TITLES)
    assert both.statutes == ("근로기준법", "근로기준법 시행령")


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("근기법 60조", "근로기준법"),
        ("주임법상 대항력", "주택임대차보호법"),
        ("상임법 권리금", "상가건물 임대차보호법"),
        ("개보법 위반", "개인정보 보호법"),
        ("개인정보법 위반", "개인정보 보호법"),
        ("근기법 시행령", "근로기준법 시행령"),
    ],
)
def test_detect_abbreviations(question: str, title: str) -> None:
    assert detect_references(question, TITLES).statutes == (title,)


def test_abbreviation_needs_the_title_in_the_index() -> None:
    assert detect_references("도교법 음주운전", TITLES).statutes == ()
    assert detect_references("도교법 음주운전", ["도로교통법"]).statutes == ("도로교통법",)
    assert detect_references("국공법, 최임법", ["국가공무원법", "최저임금법"]).statutes == (
        "국가공무원법",
        "최저임금법",
    )


def test_detect_articles() -> None:
    refs = detect_references("제60조와 60조, 제 60 조, 제6조의3 그리고 제6조 의3, 43조의2", TITLES)
    assert refs.articles == ("제60조", "제6조의3", "제43조의2")
    assert detect_references("제23조제1항", TITLES).articles == ("제23조",)
    assert detect_references("3조원 규모", TITLES).articles == ()
    assert detect_references("근로자 60명", TITLES).articles == ()


def test_analyzer_on_real_statute(shared_data: Path, analyzer: KoreanAnalyzer) -> None:
    text = (shared_data / "laws" / "민법" / "법률.md").read_text(encoding="utf-8")
    paragraphs = [p for p in text.splitlines() if p.strip()]
    token_lists = analyzer.tokens_many(paragraphs)
    flat = [t for tokens in token_lists for t in tokens]
    assert "제1조" in flat and "소멸시효" in flat
    assert not any(t in {"은", "는", "이다", "."} for t in flat)
