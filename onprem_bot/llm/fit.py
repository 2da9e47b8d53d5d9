"""Will a GGUF fit? Memory = weights + KV cache + compute buffers, against free VRAM (else RAM).

The GGUF header is parsed here (no llama.cpp load, a fraction of a second even with a 262k-token
vocabulary). The estimate, in bytes:

- weights: the file size (all layers offloaded; the token table and tokenizer are a few MB);
- KV cache (f16): ``n_ctx × Σ_layers n_kv_heads × (key_length + value_length) × 2``, i.e. the
  familiar ``2 × n_layers × n_ctx × n_kv_heads × head_dim × 2`` (sliding-window layers counted
  at full size, as llama.cpp allocates them by default);
- compute: llama.cpp's scratch for one micro-batch of logits, ``n_ubatch × n_vocab × 4``
  (within 2 % of what llama.cpp 0.3.36 reports for Gemma-3-270M and SmolLM2-135M), plus a fixed
  allowance for the backend context (:data:`FIXED_OVERHEAD`).

Parallel slots (a llama.cpp server started with ``-np N``, ``llm.server_slots``): the server allocates
one KV cache of ``n_ctx`` tokens and splits it, so memory is as above but each slot — each answer
being written — has only ``n_ctx / N`` tokens. :func:`slot_budget` checks that a slot still holds
the answer, a reasoning model's thinking and the prompt (:data:`PROMPT_ALLOWANCE`).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from onprem_bot.llm.base import LLMError

MIB = 1 << 20
N_UBATCH = 512
FIXED_OVERHEAD = 150 * MIB
"""Backend context, graph and small buffers not covered by the formula."""
KV_BYTES_PER_VALUE = 2  # f16 cache
SMALL_ARRAY = 1024
"""Arrays up to this length are kept (per-layer head counts); longer ones are skipped."""
PROMPT_ALLOWANCE = 1024
"""Tokens a slot needs for the prompt besides the answer and the thinking. Source: the pipeline builds
the prompt with :func:`onprem_bot.prompt.build_prompt`: the Korean instruction (:data:`onprem_bot.prompt.SYSTEM`,
about 210 tokens by :func:`~onprem_bot.llm.base.estimate_tokens`), the question (a few dozen tokens), and
retrieved chunks packed best first, of at most ``ingest.max_tokens`` = 450 tokens each (default) plus
their ``<자료 n>`` tags; with less room than one chunk the answer rests on a cut chunk or fails
(``ContextTooSmallError``). 210 + 64 + 450 + tags ≈ 750, rounded up to 1024 so that one whole chunk and
part of a second fit."""

_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class GgufInfo:
    """What the estimate needs from a GGUF header."""

    architecture: str
    name: str
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: tuple[int, ...]
    """Per layer (a model with one value for all layers repeats it)."""
    key_length: int
    value_length: int
    context_length: int
    """The context the model was trained for."""
    n_vocab: int
    has_chat_template: bool
    file_size: int
    chat_template: str = ""
    """The GGUF's chat template (empty when it has none): tells a reasoning model."""

    @property
    def head_dim(self) -> int:
        """The key head dimension."""
        return self.key_length


@dataclass(frozen=True)
class FitReport:
    """The memory estimate for one GGUF at one context length, and whether it fits."""

    path: str
    n_ctx: int
    architecture: str
    n_layers: int
    n_head_kv: int
    head_dim: int
    context_length: int
    weights_bytes: int
    kv_bytes: int
    overhead_bytes: int
    total_bytes: int
    free_bytes: int | None
    free_source: str
    """``gpu`` (nvidia-smi, all GPUs together), ``ram`` (available system memory) or ``given``."""
    fits: bool | None
    """None when the free memory is unknown."""
    warnings: list[str] = field(default_factory=list)
    message: str = ""
    server_slots: int = 1
    slot_ctx: int = 0
    """Tokens of context each parallel slot has (``n_ctx // server_slots``)."""
    slot_needed: int | None = None
    """Tokens a slot needs (:func:`slot_budget`); None when not checked."""

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def read_gguf_metadata(path: Path) -> dict[str, Any]:
    """The key/value metadata of a GGUF file (long arrays as ``{"type", "count"}``); LLMError if not a GGUF."""
    path = Path(path)
    try:
        with path.open("rb", buffering=1 << 20) as fh:
            if fh.read(4) != b"GGUF":
                raise LLMError(f"GGUF 파일이 아닙니다 (not a GGUF file): {path}")
            (version,) = struct.unpack("<I", _read(fh, 4))
            if version < 2:
                raise LLMError(f"지원하지 않는 GGUF 버전 (unsupported GGUF version {version}): {path}")
            _n_tensors, n_kv = struct.unpack("<QQ", _read(fh, 16))
            metadata: dict[str, Any] = {"GGUF.version": version}
            for _ in range(n_kv):
                key = _string(fh)
                (value_type,) = struct.unpack("<I", _read(fh, 4))
                metadata[key] = _value(fh, value_type)
            return metadata
    except OSError as exc:
        raise LLMError(f"GGUF 파일을 읽을 수 없습니다 (cannot read) {path}: {exc}") from None
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise LLMError(f"GGUF 헤더가 손상되었습니다 (corrupt GGUF header) {path}: {exc}") from None


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ValueError("unexpected end of file")
    return data


def _string(fh: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(fh, 8))
    if length > 1 << 30:
        raise ValueError(f"string of {length} bytes")
    return _read(fh, length).decode("utf-8")


def _value(fh: BinaryIO, value_type: int) -> Any:
    if value_type in _SCALARS:
        fmt = _SCALARS[value_type]
        return struct.unpack(fmt, _read(fh, struct.calcsize(fmt)))[0]
    if value_type == _STRING:
        return _string(fh)
    if value_type == _ARRAY:
        item_type, count = struct.unpack("<IQ", _read(fh, 12))
        if count <= SMALL_ARRAY:
            return [_value(fh, item_type) for _ in range(count)]
        if item_type in _SCALARS:
            fh.seek(count * struct.calcsize(_SCALARS[item_type]), os.SEEK_CUR)
        elif item_type == _STRING:
            for _ in range(count):
                (length,) = struct.unpack("<Q", _read(fh, 8))
                fh.seek(length, os.SEEK_CUR)
        else:
            raise ValueError(f"array of type {item_type}")
        return {"type": item_type, "count": count}
    raise ValueError(f"unknown value type {value_type}")


def gguf_info(path: Path) -> GgufInfo:
    """The architecture figures of a GGUF file (from its header)."""
    path = Path(path)
    meta = read_gguf_metadata(path)
    arch = str(meta.get("general.architecture", ""))

    def get(key: str, default: Any = None) -> Any:
        return meta.get(f"{arch}.{key}", default)

    n_layers = int(get("block_count") or 0)
    n_embd = int(get("embedding_length") or 0)
    n_head_raw = get("attention.head_count") or 0
    n_head = int(max(n_head_raw) if isinstance(n_head_raw, list) else n_head_raw)
    if not (arch and n_layers and n_embd and n_head):
        raise LLMError(f"GGUF 메타데이터가 부족합니다 (missing architecture metadata): {path}")
    kv_raw = get("attention.head_count_kv", n_head)
    n_head_kv = tuple(int(v) for v in kv_raw) if isinstance(kv_raw, list) else (int(kv_raw),) * n_layers
    key_length = int(get("attention.key_length") or n_embd // n_head)
    value_length = int(get("attention.value_length") or key_length)
    tokens = meta.get("tokenizer.ggml.tokens")
    n_vocab = int(get("vocab_size") or (tokens["count"] if isinstance(tokens, dict) else len(tokens or ())))
    return GgufInfo(
        architecture=arch,
        name=str(meta.get("general.name", path.stem)),
        n_layers=n_layers,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        key_length=key_length,
        value_length=value_length,
        context_length=int(get("context_length") or 0),
        n_vocab=n_vocab,
        has_chat_template=bool(meta.get("tokenizer.chat_template")),
        file_size=path.stat().st_size,
        chat_template=str(meta.get("tokenizer.chat_template") or ""),
    )


def kv_cache_bytes(info: GgufInfo, n_ctx: int) -> int:
    """The f16 KV cache for ``n_ctx`` tokens."""
    return n_ctx * sum(info.n_head_kv) * (info.key_length + info.value_length) * KV_BYTES_PER_VALUE


def overhead_bytes(info: GgufInfo, n_ctx: int) -> int:
    """Compute buffers: one micro-batch of logits plus :data:`FIXED_OVERHEAD`."""
    return min(n_ctx, N_UBATCH) * info.n_vocab * 4 + FIXED_OVERHEAD


def free_memory(run: Callable[..., Any] = subprocess.run) -> tuple[int, str]:
    """Free memory where the model would live: the GPUs' total free VRAM (nvidia-smi), else available RAM."""
    if shutil.which("nvidia-smi"):
        try:
            out = run(
                ["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
            mib = [int(float(line)) for line in out.split() if line.strip()]
            if mib:
                return sum(mib) * MIB, "gpu"
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    import psutil

    return int(psutil.virtual_memory().available), "ram"


@dataclass(frozen=True)
class SlotBudget:
    """Whether one parallel slot's share of the context holds an answer's prompt (all in tokens)."""

    n_ctx: int
    slots: int
    slot_ctx: int
    """``n_ctx // slots``."""
    needed: int
    """``max_tokens + think_tokens + PROMPT_ALLOWANCE``."""
    warning: str | None
    """A Korean warning when ``slot_ctx < needed``, else None."""


def slot_budget(n_ctx: int, slots: int = 1, *, max_tokens: int = 256, think_tokens: int = 0) -> SlotBudget:
    """Check that each of ``slots`` parallel slots (``n_ctx // slots`` tokens) holds ``max_tokens`` of answer,
    ``think_tokens`` of thinking (0 for a model that does not think) and :data:`PROMPT_ALLOWANCE` of prompt."""
    slots = max(1, slots)
    slot_ctx = n_ctx // slots
    needed = max_tokens + think_tokens + PROMPT_ALLOWANCE
    warning = None
    if slot_ctx < needed:
        where = f"n_ctx {n_ctx} / server_slots {slots}" if slots > 1 else f"n_ctx {n_ctx}"
        warning = (
            f"슬롯당 문맥 {slot_ctx} 토큰({where})이 답변에 필요한 {needed} 토큰(max_tokens {max_tokens} + "
            f"think_tokens {think_tokens} + 자료·질문 {PROMPT_ALLOWANCE})보다 작습니다: n_ctx를 {needed * slots} "
            "이상으로 늘리거나 server_slots를 줄이세요 (a slot's context cannot hold the prompt budget)"
        )
    return SlotBudget(n_ctx, slots, slot_ctx, needed, warning)


def thinks(info: GgufInfo, thinking: str = "auto") -> bool:
    """True when the model thinks before answering: ``thinking = "on"``, or ``auto`` and its name or
    chat template says so (:func:`onprem_bot.llm.thinking.looks_like_reasoning`)."""
    from onprem_bot.llm.thinking import looks_like_reasoning

    if thinking == "on":
        return True
    return thinking == "auto" and looks_like_reasoning(info.name, info.chat_template or None)


def estimate_fit(
    path: Path | str,
    n_ctx: int,
    *,
    free: tuple[int, str] | None = None,
    server_slots: int = 1,
    max_tokens: int | None = None,
    think_tokens: int = 0,
    thinking: str = "auto",
) -> FitReport:
    """Estimate the memory a GGUF needs at ``n_ctx`` and compare it with the free memory.

    ``free`` is ``(bytes, source)``; by default :func:`free_memory` measures it (nvidia-smi,
    else RAM). With ``max_tokens`` given, each of ``server_slots`` slots (``n_ctx // server_slots``
    tokens; the KV cache stays that of ``n_ctx``, shared) is checked by :func:`slot_budget`, with
    ``think_tokens`` counted when the model thinks (:func:`thinks`); a slot too small is a warning.
    Raises :class:`LLMError` for a missing or unreadable GGUF.
    """
    path = Path(path)
    if not path.is_file():
        raise LLMError(f"LLM 모델 파일이 없습니다 (model file not found): {path}")
    info = gguf_info(path)
    weights = info.file_size
    kv = kv_cache_bytes(info, n_ctx)
    overhead = overhead_bytes(info, n_ctx)
    total = weights + kv + overhead
    free_bytes, source = free if free is not None else free_memory()
    fits = total <= free_bytes if free_bytes is not None else None
    warnings = []
    if info.context_length and n_ctx > info.context_length:
        warnings.append(
            f"n_ctx {n_ctx}이(가) 학습 문맥 길이 {info.context_length}보다 깁니다 (longer than the trained context)"
        )
    slots = max(1, server_slots)
    needed = None
    if max_tokens is not None:
        budget = slot_budget(
            n_ctx, slots, max_tokens=max_tokens, think_tokens=think_tokens if thinks(info, thinking) else 0
        )
        needed = budget.needed
        if budget.warning:
            warnings.append(budget.warning)
    where = "GPU 여유 메모리" if source == "gpu" else "여유 메모리"
    verdict = "들어갑니다 (fits)" if fits else "부족합니다 (does not fit)"
    shared = f", 슬롯 {slots}개 × {n_ctx // slots} 토큰 (slots share the KV)" if slots > 1 else ""
    message = (
        f"{path.name}: 필요 약 {total / 1e9:.2f} GB (가중치 {weights / 1e9:.2f} + KV {kv / 1e9:.2f} + "
        f"연산 {overhead / 1e9:.2f}, n_ctx {n_ctx}{shared}) / {where} {free_bytes / 1e9:.2f} GB — {verdict}"
    )
    return FitReport(
        path=str(path),
        n_ctx=n_ctx,
        architecture=info.architecture,
        n_layers=info.n_layers,
        n_head_kv=max(info.n_head_kv) if info.n_head_kv else 0,
        head_dim=info.head_dim,
        context_length=info.context_length,
        weights_bytes=weights,
        kv_bytes=kv,
        overhead_bytes=overhead,
        total_bytes=total,
        free_bytes=free_bytes,
        free_source=source,
        fits=fits,
        warnings=warnings,
        message=message,
        server_slots=slots,
        slot_ctx=n_ctx // slots,
        slot_needed=needed,
    )
