"""Settings: defaults, TOML file, ONPREM_BOT_* variables, validation with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from onprem_bot.config import load_settings
from onprem_bot.errors import ConfigError


def test_defaults_put_everything_under_var() -> None:
    s = load_settings(env={})
    assert s.home == Path("var")
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("var/onprem-bot.db")
    assert s.ingest.max_tokens == 450 and s.ingest.chunker == "auto"


def test_toml_then_environment_then_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "onprem-bot.toml"
    cfg.write_text('home = "/srv/bot"\n[ingest]\nmax_tokens = 300\nchunker = "report"\n', encoding="utf-8")
    s = load_settings(cfg, env={"ONPREM_BOT_INGEST__MAX_TOKENS": "200"})
    assert s.home == Path("/srv/bot") and s.ingest.max_tokens == 200 and s.ingest.chunker == "report"
    s = load_settings(env={"ONPREM_BOT_CONFIG": str(cfg), "ONPREM_BOT_HOME": "/data"}, home=tmp_path)
    assert s.home == tmp_path and s.ingest.max_tokens == 300
    assert load_settings(env={"ONPREM_BOT_DATABASE_URL": "postgresql+psycopg://u@h/db"}).db_url.startswith("postgresql")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ONPREM_BOT_INGEST__MAX_TOKENS": "many"}, "ingest.max_tokens='many'"),
        ({"ONPREM_BOT_INGEST__MAX_TOKENS": "8"}, "must be >= 32"),
        ({"ONPREM_BOT_INGEST__CHUNKER": "legal"}, "valid: auto, statute, report, qa"),
        (
            {"ONPREM_BOT_COLOUR": "blue"},
            "unknown setting) colour; valid: answer, auth, database_url, embedder, faq, home, ingest, llm, log, privacy, retrieval, ui",
        ),
    ],
)
def test_bad_values_name_the_setting_and_the_valid_ones(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env=env)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("home = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(bad, env={})
