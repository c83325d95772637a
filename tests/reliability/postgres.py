"""A throwaway PostgreSQL cluster on 127.0.0.1 for the PostgreSQL rows (as tests/unit/conftest.py starts one:
initdb and pg_ctl of Debian's package, run as the postgres user when we are root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from sqlalchemy import create_engine


def pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


class Postgres:
    """``with Postgres() as pg: pg.database("name")`` -> the URL of a new empty database."""

    def __init__(self) -> None:
        bin_dir = pg_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (make system-deps installs it)")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="owstream-reliability-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            shutil.chown(self.root, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = f"postgresql+psycopg://owstream@127.0.0.1:{self.port}"

    def start(self) -> Postgres:
        data = self.root / "data"
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "owstream"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=200"
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.root / "log"),
             "-w", "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        return self

    def database(self, name: str) -> str:
        admin = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()
        return f"{self.server}/{name}"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop"],
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
