"""The jar cache without Maven: the pinned jars are downloaded from a Maven repository over HTTP and
checked against jars.lock. The repository here is the local Maven cache served on 127.0.0.1."""

from __future__ import annotations

import functools
import itertools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from owstream.errors import JarsUnavailable
from owstream.localkafka.jars import JarProgress, ensure_jars, jars_dir, read_lock


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def maven_repo(tmp_path: Path, jar_home: Path) -> Iterator[tuple[str, Path]]:
    """A copy of the pinned jars laid out like Maven Central, served on 127.0.0.1."""
    ensure_jars(jar_home)  # resolves through Maven once, which fills ~/.m2
    root = tmp_path / "repo"
    for jar in read_lock():
        target = root / jar.url_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(jars_dir(jar_home) / jar.filename, target)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_mvn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "mvn" else "/usr/bin/" + name)


def test_download_fallback_fetches_and_verifies_every_pinned_jar(
    tmp_path: Path, maven_repo: tuple[str, Path], no_mvn: None
) -> None:
    url, _ = maven_repo
    heard: list[JarProgress] = []
    target = ensure_jars(tmp_path / "home", maven_repo=url, progress=heard.append)
    assert sorted(p.name for p in target.glob("*.jar")) == sorted(j.filename for j in read_lock())
    # the download is told as it goes: from nothing, never backwards, to every jar and its bytes, then done
    total = sum(p.stat().st_size for p in target.glob("*.jar"))
    assert (heard[0].files, heard[0].size, heard[0].total_files) == (0, 0, len(read_lock()))
    assert all(a.size <= b.size and a.files <= b.files for a, b in itertools.pairwise(heard))
    assert len({p.files for p in heard}) == len(read_lock()) + 1
    assert heard[-1] == JarProgress(len(read_lock()), total, len(read_lock()), url, done=True)
    assert [p.done for p in heard].count(True) == 1
    # the second call is offline: a dead repository URL does not matter any more
    assert ensure_jars(tmp_path / "home", maven_repo="http://127.0.0.1:9") == target


def test_a_tampered_jar_is_refused(tmp_path: Path, maven_repo: tuple[str, Path], no_mvn: None) -> None:
    url, root = maven_repo
    jar = read_lock()[0]
    (root / jar.url_path).write_bytes(b"not the jar")
    with pytest.raises(JarsUnavailable, match=f"{jar.filename} has checksum"):
        ensure_jars(tmp_path / "home", maven_repo=url)
    assert not (jars_dir(tmp_path / "home") / ".complete").exists()


def test_an_unreachable_repository_is_a_clear_error(tmp_path: Path, no_mvn: None) -> None:
    with pytest.raises(JarsUnavailable, match="cannot download"):
        ensure_jars(tmp_path / "home", maven_repo="http://127.0.0.1:9")


def test_missing_java_is_a_one_line_error_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from owstream.errors import JavaNotFound
    from owstream.localkafka.java import find_java

    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(JavaNotFound) as info:
        find_java("")
    message = str(info.value)
    assert "\n" not in message
    assert "Java 17+" in message and "OWSTREAM_JAVA_HOME" in message
