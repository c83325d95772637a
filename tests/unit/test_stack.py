"""The runtime file of `owstream up` and the lock of its home: what the commands of another shell find."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from owstream.config import Settings, explicit_names
from owstream.errors import ConfigError
from owstream.runtime.stack import (
    AlreadyRunning,
    Stack,
    UpLock,
    apply_stack,
    new_stack,
    read_stack,
    remove_stack,
    runtime_path,
    without_password,
    write_stack,
)

SRC = Path(__file__).resolve().parents[2] / "src"

# Holds the lock of a home, as a running `owstream up` does, until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from owstream.runtime.stack import UpLock
with UpLock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


def demo(home: Path) -> Settings:
    return Settings(
        home=home,
        kafka_port=29092,
        kafka_controller_port=29093,
        topic_prefix="owstream-demo",
        store_url=f"sqlite:///{home / 'demo.db'}",
        overfast_url="http://127.0.0.1:40123",
        overfast_cache_seconds=60,
        dashboard_port=28501,
        notify_allow="hooks.lan",
    )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the home's lock (an `owstream up`)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(SRC)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def running_stack(home: Path, pid: int) -> Stack:
    stack = new_stack(demo(home), demo=True, dashboard_url="http://localhost:28501")
    stack = Stack(**{**stack.__dict__, "pid": pid, "pids": {"up": pid, "simulator": 4321}})
    write_stack(home, stack)
    return stack


def test_the_runtime_file_says_what_runs_and_reads_back(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    stack = running_stack(tmp_path, holder.pid)
    raw = json.loads(runtime_path(tmp_path).read_text())
    assert (raw["topic_prefix"], raw["store_url"], raw["kafka_bootstrap"], raw["overfast_url"]) == (
        "owstream-demo",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "127.0.0.1:29092",
        "http://127.0.0.1:40123",
    )
    assert raw["dashboard_url"] == "http://localhost:28501" and raw["pids"]["simulator"] == 4321
    assert raw["started_at"].endswith("Z")
    assert read_stack(tmp_path) == Stack.from_json(stack.to_json())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".runtime-")] == []  # no temporary left


def test_a_runtime_file_whose_up_is_gone_is_ignored(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import os; print(os.getpid())"]
    gone = subprocess.run(argv, capture_output=True, text=True, check=True)
    running_stack(tmp_path, int(gone.stdout))
    assert read_stack(tmp_path) is None  # its pid is dead
    running_stack(tmp_path, 1)  # a pid that lives, but holds no lock: reused by another process
    assert read_stack(tmp_path) is None
    remove_stack(tmp_path)
    assert read_stack(tmp_path) is None  # no file at all


def test_a_second_up_on_the_same_home_is_refused_saying_which_one_runs(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    running_stack(tmp_path, holder.pid)
    with pytest.raises(AlreadyRunning) as refused, UpLock(tmp_path, wait=0.2):
        pass
    message = str(refused.value)
    assert f"owstream up already runs from OWSTREAM_HOME={tmp_path}" in message
    assert f"pid {holder.pid}" in message and "http://localhost:28501" in message and "owstream-demo.*" in message


def test_the_lock_is_free_again_once_its_up_ends(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)
    with (
        UpLock(tmp_path, wait=0.2),
        pytest.raises(AlreadyRunning, match="already starting"),
        UpLock(tmp_path, wait=0.1),  # held by this process now (its runtime file not written yet)
    ):
        pass


def test_commands_take_the_running_stacks_settings_and_explicit_ones_win(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    running_stack(tmp_path, holder.pid)
    plain = Settings(home=tmp_path)
    applied = apply_stack(plain, explicit=frozenset({"home"}))
    assert applied.stack is not None and applied.notes == []
    got = applied.settings
    assert (got.topic_prefix, got.resolved_store_url, got.bootstrap_servers, got.overfast_url) == (
        "owstream-demo",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "127.0.0.1:29092",
        "http://127.0.0.1:40123",
    )
    assert got.overfast_cache_seconds == 60 and got.dashboard_port == 28501
    assert got.notify_allow == "hooks.lan"  # a webhook the stack's notifier takes is taken here too

    mine = plain.replace(store_url="sqlite:////tmp/mine.db")
    overridden = apply_stack(mine, explicit=frozenset({"home", "store_url"}))
    assert overridden.settings.store_url == "sqlite:////tmp/mine.db"
    assert overridden.settings.topic_prefix == "owstream-demo"
    (note,) = overridden.notes
    assert note.startswith("OWSTREAM_STORE_URL is set: this command uses store sqlite:////tmp/mine.db, not ")
    assert f"pid {holder.pid}" in note


def test_a_note_for_another_kafka_names_both_addresses(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    running_stack(tmp_path, holder.pid)
    elsewhere = Settings(home=tmp_path, kafka_bootstrap="kafka.example:9092")
    (note,) = apply_stack(elsewhere, explicit=frozenset({"home", "kafka_bootstrap"})).notes
    assert note.startswith(
        "OWSTREAM_KAFKA_BOOTSTRAP is set: this command uses Kafka at kafka.example:9092, not 127.0.0.1:29092 of "
    )
    same = Settings(home=tmp_path, kafka_port=29092)  # the stack's own port given again: nothing to say
    assert apply_stack(same, explicit=frozenset({"home", "kafka_port"})).notes == []


def test_the_demo_hint_is_given_only_when_the_command_used_the_demo(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    running_stack(tmp_path, holder.pid)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_")} | {"OWSTREAM_HOME": str(tmp_path)}

    def show(**variables: str) -> str:
        argv = [sys.executable, "-m", "owstream.cli", "show", "Nobody-1234"]
        done = subprocess.run(argv, capture_output=True, text=True, env=env | variables, cwd=tmp_path, check=False)
        assert done.returncode == 1
        return done.stderr

    assert "this shell uses the running demo" in show()
    mine = show(OWSTREAM_STORE_URL=f"sqlite:///{tmp_path / 'mine.db'}")  # not the demo's store: no demo hint
    assert "note: OWSTREAM_STORE_URL is set" in mine and "running demo" not in mine


def test_without_a_running_stack_the_settings_are_left_alone(tmp_path: Path) -> None:
    plain = Settings(home=tmp_path)
    assert apply_stack(plain, explicit=frozenset()).settings is plain


def test_the_store_password_is_never_written_and_must_then_be_given(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    assert without_password("postgresql+psycopg://ow:s3cret@db:5432/ow") == ("postgresql+psycopg://ow@db:5432/ow", True)
    assert without_password("sqlite:////x/demo.db") == ("sqlite:////x/demo.db", False)
    settings = demo(tmp_path).replace(store_url="postgresql+psycopg://ow:s3cret@db:5432/ow")
    stack = new_stack(settings, demo=False, dashboard_url="http://localhost:8501")
    write_stack(tmp_path, Stack(**{**stack.__dict__, "pid": holder.pid}))
    assert "s3cret" not in runtime_path(tmp_path).read_text()
    with pytest.raises(ConfigError, match="set OWSTREAM_STORE_URL"):
        apply_stack(Settings(home=tmp_path), explicit=frozenset({"home"}))
    given = apply_stack(Settings(home=tmp_path, store_url="postgresql+psycopg://ow:s3cret@db:5432/ow"),
                        explicit=frozenset({"home", "store_url"}))  # fmt: skip
    assert given.settings.store_url.endswith("s3cret@db:5432/ow") and given.notes == []


def test_explicit_settings_are_the_variables_and_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OWSTREAM_TOPIC_PREFIX=mine\n# OWSTREAM_STORE_URL=commented\n")
    names = explicit_names({"OWSTREAM_HOME": "/x", "OWSTREAM_NOT_A_SETTING": "1", "HOME": "/root"}, env_file)
    assert names == frozenset({"home", "topic_prefix"})
