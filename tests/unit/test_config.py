"""The one Settings class: environment prefix, .env file, defaults, and documentation kept true."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from owstream import config
from owstream.config import Secret, Settings
from owstream.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_commented_and_in_env_example() -> None:
    source = inspect.getsource(Settings).splitlines()
    example = (ROOT / ".env.example").read_text()
    for name in (f.name for f in dataclasses.fields(Settings)):
        line = next(i for i, text in enumerate(source) if text.strip().startswith(f"{name}:"))
        assert source[line - 1].strip().startswith("#"), f"{name} has no comment"
        assert f"OWSTREAM_{name.upper()}=" in example, f"{name} missing from .env.example"


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OWSTREAM_RATE_LIMIT=2.5\nOWSTREAM_KAFKA_BOOTSTRAP=kafka:9092\n")
    monkeypatch.setenv("OWSTREAM_DASHBOARD_PORT", "9999")
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path / "h"))
    settings = Settings.from_env()
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


def test_settings_are_typed_and_bad_values_say_which_variable(tmp_path: Path) -> None:
    settings = Settings.from_env({"OWSTREAM_KAFKA_PARTITIONS": "3", "OWSTREAM_HOME": "~/x"}, env_file=None)
    assert settings.kafka_partitions == 3 and settings.home == Path("~/x").expanduser()
    with pytest.raises(ConfigError, match=r"OWSTREAM_RATE_LIMIT='fast' is not a valid float"):
        Settings.from_env({"OWSTREAM_RATE_LIMIT": "fast"}, env_file=None)
    env_file = tmp_path / ".env"
    env_file.write_text('# a comment\nexport OWSTREAM_TOPIC_PREFIX="mine"\nOWSTREAM_KAFKA_PORT=1234\n')
    from_file = Settings.from_env({"OWSTREAM_KAFKA_PORT": "999"}, env_file=env_file)
    assert (from_file.topic_prefix, from_file.kafka_port) == ("mine", 999)  # the environment wins


def test_secrets_are_never_printed() -> None:
    settings = Settings.from_env({"OWSTREAM_KAFKA_SASL_PASSWORD": "hunter2"}, env_file=None)
    assert settings.kafka_sasl_password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.kafka_sasl_password)
    assert settings.as_env()["OWSTREAM_KAFKA_SASL_PASSWORD"] == "hunter2"  # child processes get it
    assert Settings.from_env(settings.as_env(), env_file=None) == settings
    assert Secret("a") == Secret("a") != Secret("b")


def test_a_local_cluster_of_three_is_reached_on_all_its_nodes() -> None:
    assert Settings(kafka_port=20000, kafka_brokers=3).bootstrap_servers == (
        "127.0.0.1:20000,127.0.0.1:20001,127.0.0.1:20002"
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("OWSTREAM_KAFKA_SECURITY_PROTOCOL", "SASL_TLS", "is not one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
        ("OWSTREAM_KAFKA_SASL_MECHANISM", "GSSAPI", "is not one of: '', PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
        ("OWSTREAM_META_REGION", "mars", "is not one of: americas, europe, asia"),
        ("OWSTREAM_LOG_LEVEL", "LOUD", "is not one of: '', DEBUG, INFO, WARNING, ERROR"),
        ("OWSTREAM_RATE_LIMIT", "0", "is out of range (at least 0.01)"),
        ("OWSTREAM_KAFKA_PORT", "70000", "is out of range (1 to 65535)"),
        ("OWSTREAM_PROCESSOR_BATCH_SIZE", "0", "is out of range (at least 1)"),
    ],
)
def test_a_closed_or_out_of_range_setting_stops_at_start_up_naming_the_variable(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value}, env_file=tmp_path / "absent.env")
    assert str(caught.value).startswith(f"{variable}=") and says in str(caught.value)


def test_closed_settings_are_read_whatever_their_case() -> None:
    settings = Settings.from_env({"OWSTREAM_LOG_LEVEL": "info", "OWSTREAM_KAFKA_SECURITY_PROTOCOL": "sasl_ssl"}, None)
    assert (settings.log_level, settings.kafka_security_protocol) == ("INFO", "SASL_SSL")


def test_a_wrong_setting_is_the_one_json_object_of_a_json_command(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_")}
    env |= {"OWSTREAM_HOME": str(tmp_path), "OWSTREAM_META_REGION": "mars"}
    argv = [sys.executable, "-m", "owstream.cli", "show", "TeKrop-2217", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]  # one JSON object on stdout, as for any other error
    assert error == {
        "type": "config_error",
        "message": "OWSTREAM_META_REGION='mars' is not one of: americas, europe, asia",
    }
    assert done.stderr.count("\n") == 1 and "OWSTREAM_META_REGION" in done.stderr
