"""The one Settings class: environment prefix, .env file, defaults, and documentation kept true."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from owstream import config
from owstream.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_commented_and_in_env_example() -> None:
    source = inspect.getsource(Settings).splitlines()
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        line = next(i for i, text in enumerate(source) if text.strip().startswith(f"{name}:"))
        assert source[line - 1].strip().startswith("#"), f"{name} has no comment"
        assert f"OWSTREAM_{name.upper()}=" in example, f"{name} missing from .env.example"


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OWSTREAM_RATE_LIMIT=2.5\nOWSTREAM_KAFKA_BOOTSTRAP=kafka:9092\n")
    monkeypatch.setenv("OWSTREAM_DASHBOARD_PORT", "9999")
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path / "h"))
    settings = Settings()
    assert settings.rate_limit == 2.5
    assert settings.dashboard_port == 9999
    assert settings.bootstrap_servers == "kafka:9092"
    assert not settings.uses_local_broker
    assert settings.resolved_store_url == f"sqlite:///{tmp_path / 'h' / 'owstream.db'}"


def test_local_broker_is_the_default(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(kafka_port=12345)
    assert settings.uses_local_broker
    assert settings.bootstrap_servers == "127.0.0.1:12345"
    assert config.PUBLIC_OVERFAST_URL in settings.overfast_url
