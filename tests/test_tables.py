"""Tables rendered as rows that carry their caption and column headers (onprem_bot.ingest.tables)."""

from __future__ import annotations

from onprem_bot.ingest.tables import TableGrid, continues, row_texts, table_headers, unspace_letters

# The shape pdfplumber gives for 출장규칙 [별표 1]: a two-level header (교통비 over 철도/항공),
# a diagonal header cell (구분/직명) merged over both header rows, multi-line cells.
TRAVEL = TableGrid(
    (
        ("구분\n직명", "교통비", None, "일 비", "숙박비"),
        (None, "철도", "항공", None, None),
        ("임원", "실비\n(특실)", "실비", "25,000", "실비 100,000 이내"),
        ("1급이하", "실비\n(일반실)", "실비", "25,000", "광역시: 실비 80,000이내"),
        ("", "", "", "", "그 외 지역: 실비 70,000이내"),
    ),
    caption="[별표 1] 국 내 여 비 지 급 표",
)


def test_two_level_header_is_resolved_per_column() -> None:
    assert table_headers(TRAVEL) == ["구분 직명", "교통비 철도", "교통비 항공", "일비", "숙박비"]


def test_every_row_names_caption_row_and_columns() -> None:
    rows = row_texts(TRAVEL)
    assert rows[0] == (
        "[별표 1] 국내여비지급표 | 구분 직명: 임원 | 교통비 철도: 실비 (특실) | 교통비 항공: 실비"
        " | 일비: 25,000 | 숙박비: 실비 100,000 이내"
    )
    assert "구분 직명: 1급이하" in rows[1] and "숙박비: 광역시: 실비 80,000이내" in rows[1]


def test_row_label_merged_over_rows_is_repeated() -> None:
    assert row_texts(TRAVEL)[2] == "[별표 1] 국내여비지급표 | 구분 직명: 1급이하 | 숙박비: 그 외 지역: 실비 70,000이내"


def test_table_without_header_row_keeps_plain_cells() -> None:
    grid = TableGrid((("1", "10,000", "20,000"), ("2", "15,000", "30,000")))
    assert table_headers(grid) == []
    assert row_texts(grid) == ["1 | 10,000 | 20,000", "2 | 15,000 | 30,000"]


def test_continuation_on_next_page_uses_the_first_pages_headers() -> None:
    first = TableGrid((("구분", "금액"), ("가", "1,000")))
    repeated = TableGrid((("구분", "금액"), ("나", "2,000")))
    bare = TableGrid((("다", "3,000"),))
    assert continues(first, repeated) and continues(first, bare)
    assert not continues(first, TableGrid((("x", "y", "z"),)))
    assert row_texts(bare, headers=table_headers(first)) == ["구분: 다 | 금액: 3,000"]


def test_letter_spacing_joined_only_for_single_syllable_runs() -> None:
    assert unspace_letters("국 내 여 비 지 급 표") == "국내여비지급표"
    assert unspace_letters("일 비") == "일비"
    assert unspace_letters("그 외 지역") == "그 외 지역"


def test_parallel_entries_split_but_wrapped_or_vertical_cells_do_not() -> None:
    from onprem_bot.ingest.tables import split_parallel_lines

    assert split_parallel_lines(["결혼", "본인\n자녀", "5일\n1일"]) == [
        ["결혼", "본인", "5일"],
        ["결혼", "자녀", "1일"],
    ]
    formula = ["초과근무", "연\n장", "월 통상임금÷209×\n1.5×해당근로시간"]
    assert split_parallel_lines(formula) == [formula]
    wrapped = ["임원", "실비\n(특실)", "25,000\n(정액)"]
    assert split_parallel_lines(wrapped) == [wrapped]
