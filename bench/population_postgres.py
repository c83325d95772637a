"""A throwaway PostgreSQL server on 127.0.0.1 for the population benchmark's PostgreSQL sizes (Debian's initdb and
pg_ctl, run as the postgres user when we are root; the same way the test suite starts one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from owstream.localkafka import free_port


def pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


class Postgres:
    """``with Postgres() as pg: pg.url`` -> a database on a server of its own, removed afterwards."""

    def __init__(self) -> None:
        found = pg_bin()
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (make system-deps installs it)")
        self.bin = found
        self.root = Path(tempfile.mkdtemp(prefix="bench-population-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            shutil.chown(self.root, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.url = f"postgresql+psycopg://owstream@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True)

    def __enter__(self) -> Postgres:
        data = str(self.root / "data")
        self._run(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "owstream")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F"
        self._run(str(self.bin / "pg_ctl"), "-D", data, "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop"],
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
