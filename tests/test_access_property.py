"""Property (issue 19): random users, groups, documents and questions; nothing of a document or FAQ entry
outside the reader's groups ever appears in what that reader is shown.

The world: the real statutes of ``corpus/`` and the KISA regulation pages and regulation texts of
``tests/fixtures``, split at random over ten groups (some stay open to everyone), plus one memo per group
holding a code word and restricted FAQ entries holding code words. 1,200 questions from random readers
(chunk text, article references, the memos' and the FAQ's own wording) go through ``ask --json`` (the
pipeline), ``search --json`` (the retriever) and the chat log shown to the reader. Every output must:
cite only readable chunks and FAQ entries; quote only text that readable sources hold; never contain a
code word of another group. The hash embedder keeps it fast; extractive answers quote the sources.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onprem_bot.access import PUBLIC, Viewer
from onprem_bot.app import App, build_app
from onprem_bot.cli.retrieval import hit_json
from onprem_bot.config import load_settings
from onprem_bot.errors import QueryError
from onprem_bot.pipeline import NOT_FOUND

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
GROUPS = ("인사팀", "감사실", "보안팀", "임원", "재무팀", "총무팀", "법무팀", "기획팀", "노무팀", "전산팀")
QUESTIONS = 1200
_QUOTE = re.compile(r"[\"“]([^\"”]{6,})[\"”]")
_SPACE = re.compile(r"\s+")
_PIECES = re.compile(r"\.\.\.|…|(?<=[.다])\s+|\[\d+\]")
"""Where a snippet or a quote joins pieces of its source (elisions, sentence ends, citation markers)."""


@dataclass
class World:
    app: App
    readers: list[Viewer]
    doc_groups: dict[str, tuple[str, ...]]
    chunk_doc: dict[str, str]
    chunk_text: dict[str, str]
    faq_groups: dict[int, tuple[str, ...]]
    codes: dict[str, str]  # code word -> the group whose memo or FAQ entry holds it


def flat(text: str) -> str:
    return _SPACE.sub("", text)


def pieces(text: str) -> list[str]:
    """The parts of a shown text that must each be found, verbatim up to spaces, in a readable source."""
    return [flat(p).strip(".,") for p in _PIECES.split(text) if len(flat(p)) >= 8]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    rng = random.Random(19)
    root = tmp_path_factory.mktemp("access")
    docs = root / "docs"
    shutil.copytree(REPO / "corpus", docs / "corpus", ignore=shutil.ignore_patterns("NOTICE"))
    for src in (*sorted((FIXTURES / "appendix").glob("*.pdf")), FIXTURES / "supplementary" / "여비규정.md"):
        target = docs / "kisa" / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, target)
    codes: dict[str, str] = {}
    for i, group in enumerate(GROUPS):
        code = f"KEY{i}X{rng.randrange(10_000, 99_999)}"
        codes[code] = group
        (docs / "memo" / group).mkdir(parents=True)
        (docs / "memo" / group / f"보안메모{i}.txt").write_text(
            f"{group} 보안 메모\n제1조(출입 암호) {group}의 출입 암호 코드는 {code} 이다.\n"
            f"제2조(보관) 이 메모는 {group} 문서함에 보관한다.\n",
            encoding="utf-8",
        )
    settings = load_settings(env={}, home=root / "home", embedder={"backend": "hash"}, answer={"mode": "extractive"})
    app = build_app(settings)
    report = app.ingestor.run([docs])
    assert not report.skipped, report.skipped
    app.reindex()
    doc_groups: dict[str, tuple[str, ...]] = {}
    for d in app.documents.list_all():
        memo = Path(d.path).parent.name
        groups = (memo,) if memo in GROUPS else tuple(rng.sample(GROUPS, rng.choice((0, 1, 1, 2))))
        doc_groups[d.id] = tuple(sorted(app.access.set_document_groups(d.id, groups, by="test")))
    for i, group in enumerate(GROUPS):
        code = f"FAQ{i}Z{rng.randrange(10_000, 99_999)}"
        codes[code] = group
        app.faq_store.add(f"{group} 법인카드 한도는 얼마인가요?", f"{group} 법인카드 코드 {code}, 한도는 비공개입니다.", groups=[group])  # fmt: skip
    app.faq_store.add("사내 식당 운영 시간은?", "사내 식당은 11시 30분부터 13시까지 운영합니다.")
    faq_groups = {e.id: e.groups for e in app.faq_store.entries(include_disabled=True)}  # the seed FAQ too
    readers = [PUBLIC, Viewer("nobody")]
    for n in range(24):
        readers.append(Viewer(f"user{n}", frozenset(rng.sample(GROUPS, rng.choice((1, 1, 2, 3))))))
    chunks = app.documents.chunks()
    yield World(
        app,
        readers,
        doc_groups,
        {c.id: c.document_id for c in chunks},
        {c.id: c.text for c in chunks},
        faq_groups,
        codes,
    )
    app.db.dispose()


def questions(world: World, rng: random.Random) -> Iterator[str]:
    chunks = list(world.chunk_text.items())
    titled = [(c.doc_title, c.article) for c in world.app.documents.chunks() if c.article]
    for n in range(QUESTIONS):
        kind = n % 5
        if kind == 0:  # words of a random chunk, often of a document the reader may not read
            words = rng.choice(chunks)[1].split()
            start = rng.randrange(max(1, len(words) - 6))
            yield " ".join(words[start : start + rng.randint(3, 8)]) + "?"
        elif kind == 1:
            title, article = rng.choice(titled)
            yield f"{title} {article}에 무엇이 있나요?"
        elif kind == 2:
            yield f"{rng.choice(GROUPS)}의 출입 암호 코드는 무엇인가요?"
        elif kind == 3:
            yield f"{rng.choice(GROUPS)} 법인카드 한도는 얼마인가요?"
        else:
            yield rng.choice(("연차휴가는 며칠인가요?", "출장 숙박비는 얼마인가요?", "사내 식당 운영 시간은?", "보안 메모는 어디에 보관하나요?"))  # fmt: skip


def texts_of(world: World, reader: Viewer, readable: bool) -> str:
    """The flattened text of the chunks ``reader`` may (``readable``) or may not read."""
    texts = [
        t for c, t in world.chunk_text.items() if reader.may_read(world.doc_groups[world.chunk_doc[c]]) is readable
    ]
    return flat("\n".join(texts))


def assert_from_readable(piece: str, texts: tuple[str, str], context: object) -> None:
    """A shown piece of source text is in a readable chunk, or at least in no unreadable one (a rendering of a
    table row or a cut snippet need not match the stored text letter for letter)."""
    allowed, forbidden = texts
    assert piece in allowed or piece not in forbidden, context


def assert_nothing_leaks(world: World, reader: Viewer, question: str, shown: dict, texts: tuple[str, str]) -> None:
    text = json.dumps(shown, ensure_ascii=False)
    for code, group in world.codes.items():
        if code in text and code not in question:
            assert group in reader.groups, f"{reader.name} saw {group}'s code for {question!r}"
    for c in shown.get("citations", []):
        chunk = c["chunk_id"]
        if chunk.startswith("faq:"):
            assert reader.may_read(world.faq_groups[int(chunk[4:])]), (reader, question, c)
        else:
            assert reader.may_read(world.doc_groups[world.chunk_doc[chunk]]), (reader, question, c)
        if not chunk.startswith("faq:"):
            for piece in pieces(c["snippet"]):
                assert_from_readable(piece, texts, (reader, question, piece))
    for hit in shown.get("hits", []):
        assert reader.may_read(world.doc_groups[world.chunk_doc[hit["chunk_id"]]]), (reader, question, hit)
    if shown.get("route") in ("extractive", "rag"):
        for quoted in _QUOTE.findall(shown["answer"]):
            for piece in pieces(quoted):
                assert_from_readable(piece, texts, (reader, question, piece))
    if shown.get("route") == "refused":
        assert shown["answer"].startswith(NOT_FOUND)


def test_no_reader_ever_sees_anything_outside_their_groups(world: World) -> None:
    rng = random.Random(1919)
    texts = {r.name: (texts_of(world, r, True), texts_of(world, r, False)) for r in world.readers}
    seen_restricted = asked = 0
    conversations = {r.name: world.app.chat.start(f"user:{r.name}") for r in world.readers}
    for n, question in enumerate(questions(world, rng)):
        reader = rng.choice(world.readers)
        try:
            answer = world.app.pipeline.ask(question, viewer=reader).as_json()
        except QueryError:  # nothing searchable in a random slice of text ("1. 2. 3."): an error, nothing shown
            continue
        assert_nothing_leaks(world, reader, question, answer, texts[reader.name])
        hits = {"hits": [hit_json(h) for h in world.app.retriever.run(question, k=5, viewer=reader)]}
        assert_nothing_leaks(world, reader, question, hits, texts[reader.name])
        if n % 10 == 0:  # the chat, and the log that reader is shown afterwards
            world.app.chat.ask(conversations[reader.name], question, reader)
        asked += 1
        seen_restricted += any(
            world.doc_groups[world.chunk_doc[h["chunk_id"]]] for h in hits["hits"]
        )  # restricted documents were reached by those allowed to
    for reader in world.readers:
        for message in world.app.chat.history(conversations[reader.name]):
            shown = {**message.answer.as_json(), "question": message.question}
            assert_nothing_leaks(world, reader, message.question, shown, texts[reader.name])
    assert asked >= 1000, asked
    assert seen_restricted > 100  # the property is not vacuous: readers in groups did get restricted chunks


def test_a_groups_code_word_reaches_its_own_readers(world: World) -> None:
    """The memos are findable at all: a reader of the group gets the code, the same question without it not."""
    code, group = next(iter(world.codes.items()))
    member = Viewer("member", frozenset({group}))
    question = f"{group}의 출입 암호 코드는 무엇인가요?"
    assert code in json.dumps(world.app.pipeline.ask(question, viewer=member).as_json(), ensure_ascii=False)
    assert code not in json.dumps(world.app.pipeline.ask(question, viewer=PUBLIC).as_json(), ensure_ascii=False)
