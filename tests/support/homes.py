"""A private OWSTREAM_HOME for a test's own broker or cluster, sharing the session's cached jars."""

from __future__ import annotations

from pathlib import Path

from owstream.localkafka.jars import ensure_jars, jars_dir


def broker_home(home: Path, jar_home: Path) -> Path:
    """``home`` with the jars of ``jar_home`` linked in (resolved there once), so no start fetches them."""
    ensure_jars(jar_home)
    (home / "kafka" / "jars").mkdir(parents=True, exist_ok=True)
    if not jars_dir(home).exists():
        jars_dir(home).symlink_to(jars_dir(jar_home), target_is_directory=True)
    return home
