"""The helpers of the compose tests (conftest.py has their fixtures).

compose.yaml run for real by `make compose-test` (tests/compose/run.sh starts a container engine where none
runs, makes the base images where no registry answers, then runs these tests). The default `pytest` run does
not collect this directory (pyproject's norecursedirs): it needs that engine.

Every command goes through :class:`Compose`: one project name (``owstream-test``, whatever an earlier run
left of it is removed first), compose.yaml as shipped, and tests/compose/offline.yaml only on the engine
run.sh started (its containers have no way out, so the image's build uses the host's network). The settings
come from a test .env file (OWSTREAM_ENV_FILE and ``--env-file``), never from the repository's own .env."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROJECT = "owstream-test"


def compose_command() -> list[str] | None:
    """``docker compose`` (the CLI plugin) or a standalone ``docker-compose`` v2+; None without either."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        probe = subprocess.run([*argv, "version"], capture_output=True, text=True, check=False)
        # v2+ says "Docker Compose version v2.40.3"; v1 said "docker-compose version 1.29.2".
        if probe.returncode == 0 and "Docker Compose version" in probe.stdout:
            return argv
    return None


@dataclass
class Compose:
    """``docker compose`` on the test project, with the test's settings file."""

    argv: list[str]
    env_file: Path
    settings: dict[str, str]
    files: list[Path] = field(default_factory=lambda: [ROOT / "compose.yaml"])

    def write_settings(self, **changes: str) -> None:
        """The test .env file: ``settings`` with ``changes`` (a value of "" removes the line)."""
        self.settings.update(changes)
        self.settings = {k: v for k, v in self.settings.items() if v != ""}
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.settings.items()))

    @property
    def environ(self) -> dict[str, str]:
        """The caller's environment without any OWSTREAM_*, POSTGRES_* or COMPOSE_* variable: the settings
        file alone decides."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OWSTREAM_", "POSTGRES_", "COMPOSE_"))}
        env["OWSTREAM_ENV_FILE"] = str(self.env_file)
        return env

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 900, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        files = [arg for path in self.files for arg in ("-f", str(path))]
        command = [*self.argv, "-p", PROJECT, *files, "--env-file", str(self.env_file), *args]
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=self.environ, cwd=ROOT, timeout=timeout,
            input=stdin,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def model(self, *profiles: str) -> dict[str, Any]:
        """``docker compose config`` as JSON, with these profiles (and the settings file's)."""
        extra = [arg for profile in profiles for arg in ("--profile", profile)]
        parsed: dict[str, Any] = json.loads(self(*extra, "config", "--format", "json").stdout)
        return parsed

    def containers(self, *, one_off: bool = False) -> list[dict[str, Any]]:
        """``docker inspect`` of the project's running containers (one-off ``run`` containers only if asked)."""
        ids = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}").split()
        found: list[dict[str, Any]] = json.loads(docker("inspect", *ids)) if ids else []
        return [c for c in found if one_off or c["Config"]["Labels"].get("com.docker.compose.oneoff") != "True"]

    def exec(self, service: str, *argv: str, stdin: str | None = None, timeout: float = 300) -> str:
        """Run ``argv`` in the running container of ``service``; its stdout."""
        return self("exec", "-T", service, *argv, stdin=stdin, timeout=timeout).stdout


def docker(*args: str, timeout: float = 300) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def service_of(container: dict[str, Any]) -> str:
    return str(container["Config"]["Labels"]["com.docker.compose.service"])


def health(container: dict[str, Any]) -> str:
    state = container["State"]
    return str(state.get("Health", {}).get("Status", "none"))


def players() -> Sequence[str]:
    from owstream.simulator import player_ids

    return player_ids()
