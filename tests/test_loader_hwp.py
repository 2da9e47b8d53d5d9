"""Tests for the HWP 5.0 loader: generated fixtures always, real samples when shared/ exists."""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

from onprem_bot.errors import LoaderError
from onprem_bot.ingest.loaders.base import LoadedDocument
from onprem_bot.ingest.loaders.hwp import load_hwp


def _load_fixture_builder() -> ModuleType:
    path = Path(__file__).resolve().parent / "fixtures" / "make_hwp.py"
    spec = importlib.util.spec_from_file_location("make_hwp", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_hwp"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


mk = _load_fixture_builder()

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HWP_DIR = DATA / "docs" / "hwp"
NORMAL_SAMPLE = HWP_DIR / "디지털 정부혁신 추진계획.hwp"
DIST_SAMPLE = HWP_DIR / "한글문서파일형식_5.0_revision1.3.hwp"


def _section() -> bytes:
    """A section exercising controls, line breaks, a table and a record over 4095 bytes."""
    return (
        mk.paragraph(mk.control(2, b"secd") + mk.control(2, b"cold"))  # section/column defs
        + mk.paragraph("디지털 정부혁신 시범 문서")
        + mk.paragraph("첫째 줄\n둘째 줄" + mk.control(9) + "탭 뒤" + mk.control(17, b"fn  "))
        + mk.paragraph("묶음\x1e빈칸과 하이픈\x18끝")
        + mk.table([["구분", "내용"], ["가", "첫 행\n둘째 줄"], ["나", ""]])
        + mk.paragraph("   ")  # blank paragraphs are skipped
        + mk.paragraph("긴 문단 " * 600)  # > 0xFFF bytes: extended record size
    )


def _blocks(doc: LoadedDocument) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in doc.blocks]


def test_compressed_document(tmp_path: Path) -> None:
    doc = load_hwp(mk.write_hwp(tmp_path / "a.hwp", [_section()]))
    assert doc.doc_type == "hwp"
    assert doc.title == "디지털 정부혁신 시범 문서"
    assert doc.metadata == {"hwp_version": "5.0.3.0", "distribution": "false"}
    blocks = _blocks(doc)
    assert blocks[:5] == [
        ("paragraph", "디지털 정부혁신 시범 문서"),
        ("paragraph", "첫째 줄\n둘째 줄 탭 뒤"),
        ("paragraph", "묶음 빈칸과 하이픈-끝"),
        # body rows carry the caption (the short line before the table) and the column headers
        ("table_row", "묶음 빈칸과 하이픈-끝 | 구분: 가 | 내용: 첫 행 둘째 줄"),
        ("table_row", "묶음 빈칸과 하이픈-끝 | 구분: 나"),
    ]
    assert blocks[5][0] == "paragraph" and blocks[5][1].count("긴 문단") == 600
    assert len(blocks) == 6
    assert all(b.page is None for b in doc.blocks)


def test_uncompressed_document(tmp_path: Path) -> None:
    doc = load_hwp(mk.write_hwp(tmp_path / "u.hwp", [_section()], compressed=False))
    assert _blocks(doc) == _blocks(load_hwp(mk.write_hwp(tmp_path / "c.hwp", [_section()])))


def test_sections_in_numeric_order(tmp_path: Path) -> None:
    sections = [mk.paragraph(f"구역 {n}") for n in range(12)]
    doc = load_hwp(mk.write_hwp(tmp_path / "s.hwp", sections))
    assert [b.text for b in doc.blocks] == [f"구역 {n}" for n in range(12)]


def test_distribution_document_is_decrypted(tmp_path: Path) -> None:
    doc = load_hwp(mk.write_hwp(tmp_path / "d.hwp", [_section(), mk.paragraph("둘")], distribution=True))
    assert doc.metadata["distribution"] == "true"
    assert _blocks(doc)[:4] == _blocks(load_hwp(mk.write_hwp(tmp_path / "n.hwp", [_section()])))[:4]
    assert doc.blocks[-1].text == "둘"
    assert "배포용 문서의 안내문" not in doc.text  # the BodyText placeholder is not read


def test_nested_table_text_is_kept_in_its_cell(tmp_path: Path) -> None:
    inner = mk.table([["안쪽1", "안쪽2"]], level=2)
    outer = mk.table([["바깥", "셀"]])
    # splice the inner table into the outer table's last cell (after that cell's paragraph)
    section = outer + inner + mk.paragraph("표 뒤 문단")
    doc = load_hwp(mk.write_hwp(tmp_path / "n.hwp", [section]))
    assert _blocks(doc) == [("table_row", "바깥 | 셀 안쪽1 | 안쪽2"), ("paragraph", "표 뒤 문단")]


def test_cells_without_addresses_fall_back_to_paragraphs(tmp_path: Path) -> None:
    section = mk.paragraph(mk.control(11, b"tbl "))
    section += mk.record(mk.CTRL_HEADER, 1, b"tbl "[::-1])
    section += mk.record(mk.TABLE, 2, struct.pack("<IHH", 0, 1, 2))
    for text in ("셀 하나", "셀 둘"):
        section += mk.record(mk.LIST_HEADER, 2, struct.pack("<HHI", 1, 0, 0)) + mk.paragraph(text, 2)
    doc = load_hwp(mk.write_hwp(tmp_path / "f.hwp", [section]))
    assert _blocks(doc) == [("paragraph", "셀 하나"), ("paragraph", "셀 둘")]


def _raises(path: Path, *needles: str) -> str:
    with pytest.raises(LoaderError) as info:
        load_hwp(path)
    assert info.value.path == path
    for needle in needles:
        assert needle in info.value.reason
    return info.value.reason


def test_password_protected(tmp_path: Path) -> None:
    path = mk.write_hwp(tmp_path / "p.hwp", [_section()], password=True)
    _raises(path, "암호가 걸린 HWP 문서입니다", "password-protected")


def test_not_an_ole_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.hwp"
    path.write_bytes(b"this is not a compound file" * 40)
    _raises(path, "HWP 5.0", "not an HWP 5.0 OLE")


def test_hwpx_renamed_to_hwp(tmp_path: Path) -> None:
    path = tmp_path / "really_hwpx.hwp"
    path.write_bytes(b"PK\x03\x04" + bytes(600))
    _raises(path, "HWPX", ".hwpx")


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "none.hwp", "파일을 열 수 없습니다", "cannot open")


def test_ole_without_file_header(tmp_path: Path) -> None:
    path = tmp_path / "x.hwp"
    path.write_bytes(mk.build_ole({"BodyText/Section0": mk.deflate(mk.paragraph("x"))}))
    _raises(path, "FileHeader")


def test_bad_signature(tmp_path: Path) -> None:
    path = tmp_path / "x.hwp"
    path.write_bytes(mk.build_ole({"FileHeader": bytes(256)}))
    _raises(path, "서명", "signature")


def test_without_body_text(tmp_path: Path) -> None:
    path = tmp_path / "x.hwp"
    path.write_bytes(mk.build_ole({"FileHeader": mk.file_header(1), "DocInfo": b""}))
    _raises(path, "BodyText")


@pytest.mark.parametrize(
    "stream",
    [
        b"\xff\x00garbage that is not deflate" * 3,  # zlib error
        mk.deflate(mk.paragraph("잘린 문단"))[:-6],  # truncated deflate stream
        mk.deflate(mk.paragraph("x") + struct.pack("<I", 67 | 200 << 20)),  # record overruns
    ],
)
def test_damaged_section(tmp_path: Path, stream: bytes) -> None:
    path = tmp_path / "bad.hwp"
    path.write_bytes(mk.build_ole({"FileHeader": mk.file_header(1), "BodyText/Section0": stream}))
    _raises(path, "손상된 HWP 파일입니다", "damaged HWP file")


def test_damaged_distribution_stream(tmp_path: Path) -> None:
    path = tmp_path / "bad.hwp"
    path.write_bytes(mk.build_ole({"FileHeader": mk.file_header(5), "ViewText/Section0": b"\x00" * 40}))
    _raises(path, "손상된 HWP 파일입니다", "DISTRIBUTE_DOC_DATA")


# --- real samples (shared/data, absent in a fresh clone) -----------------------------


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"sample not available: {path}")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_real_normal_document() -> None:
    _need(NORMAL_SAMPLE)
    doc = load_hwp(NORMAL_SAMPLE)
    assert doc.metadata == {"hwp_version": "5.1.0.1", "distribution": "false"}
    assert doc.title == "디지털 정부혁신 추진계획"
    assert doc.blocks[0].text.startswith("디지털 정부혁신 추진계획")
    assert "선제적·통합적 대국민 서비스 혁신" in doc.text
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("paragraph") > 100 and kinds.count("table_row") > 50
    assert ("table_row", "1 | 선제적·통합적 대국민 서비스 혁신") in _blocks(doc)


def test_real_normal_document_matches_extract_hwp() -> None:
    _need(NORMAL_SAMPLE)
    extract_hwp = pytest.importorskip("extract_hwp")
    reference, error = extract_hwp.extract_text_from_hwp(str(NORMAL_SAMPLE))
    assert not error
    ours = _squash(load_hwp(NORMAL_SAMPLE).text)
    lines = [_squash(line) for line in reference.splitlines() if line.strip()]
    assert len(lines) > 300
    assert [line for line in lines if line not in ours] == []


def test_real_distribution_document() -> None:
    _need(DIST_SAMPLE)
    doc = load_hwp(DIST_SAMPLE)
    assert doc.metadata == {"hwp_version": "5.1.0.1", "distribution": "true"}
    assert doc.title == "한글문서파일형식_5.0_revision1.3"
    text = doc.text
    assert "Hwp Document File Formats 5.0" in text
    assert "4.2.13. 배포용 문서 데이터" in text
    assert "HWPTAG_DISTRIBUTE_DOC_DATA" in text
    rows = [b.text for b in doc.blocks if b.kind == "table_row"]
    assert "표 자료형 | 자료형: SHWPUNIT | 길이: 4 | 부호: √ | 설명: 1/7200인치로 표현된 \uf53a글 내부 단위" in rows
    assert "표 파일 인식 정보 | 자료형: DWORD | 설명: bit 2 | 설명: 배포용 문서 여부" in rows
    assert len(rows) > 1000
