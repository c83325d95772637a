"""The local broker's jars: Apache Kafka from Maven Central, pinned, checksummed and cached.

Resolution: ``mvn dependency:copy-dependencies`` on the bundled ``kafka/pom.xml``; where there is no
``mvn``, the same pinned jars (``kafka/jars.lock``: coordinates and SHA-256) are downloaded directly.
Either way they are checked against the lock and cached under ``OWSTREAM_HOME/kafka/jars/<version>``,
so the second start is offline. The first start fetches about 44 MB: ``progress`` hears every file fetched.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from owstream.errors import JarsUnavailable

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.1.2"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
_COMPLETE = ".complete"


@dataclass(frozen=True, slots=True)
class LockedJar:
    group: str
    artifact: str
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    @property
    def url_path(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.filename}"


@dataclass(frozen=True, slots=True)
class JarProgress:
    """How far the first resolution of the jars is."""

    files: int  # files fetched so far (Maven: every file it downloads, its own plugins included)
    size: int  # bytes fetched so far
    total_files: int | None  # known for the direct download: the jars of the lock
    via: str  # "Maven", or the repository the jars are downloaded from
    done: bool = False

    def describe(self) -> str:
        """``fetching the Kafka 4.1.2 jars with Maven (first start only): 12 files, 20.1 MB``"""
        how = "with Maven" if self.via == "Maven" else f"from {self.via}"
        files = f"{self.files} of {self.total_files}" if self.total_files else str(self.files)
        count = f"{files} {'file' if (self.total_files or self.files) == 1 else 'files'}, {self.size / 1e6:.1f} MB"
        if self.done:
            return f"fetched the Kafka {KAFKA_VERSION} jars {how}: {count} (cached for the next starts)"
        return f"fetching the Kafka {KAFKA_VERSION} jars {how} (first start only): {count}"


Progress = Callable[[JarProgress], None]


def resource_path(name: str) -> Path:
    """A file shipped in ``owstream/localkafka/kafka/``."""
    return Path(str(resources.files("owstream.localkafka") / "kafka" / name))


def read_lock() -> list[LockedJar]:
    jars = []
    for line in resource_path("jars.lock").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        coords, sha = line.split("\t")
        group, artifact, version = coords.split(":")
        jars.append(LockedJar(group, artifact, version, sha))
    return jars


def jars_dir(home: Path) -> Path:
    return home / "kafka" / "jars" / KAFKA_VERSION


def ensure_jars(home: Path, *, maven_repo: str = MAVEN_CENTRAL, progress: Progress | None = None) -> Path:
    """Return the directory holding every jar of the broker, resolving them on first use (``progress``
    hears each file fetched, then once more with ``done``)."""
    target = jars_dir(home)
    if (target / _COMPLETE).exists():
        return target
    lock = read_lock()
    staging = Path(tempfile.mkdtemp(prefix="jars-", dir=_ensure_parent(target)))
    try:
        tell = progress or (lambda _: None)
        if shutil.which("mvn"):
            last = _resolve_with_maven(staging, tell)
        else:
            log.info("mvn not found: downloading the %d pinned jars from %s", len(lock), maven_repo)
            last = _download(lock, staging, maven_repo, tell)
        _verify(lock, staging)
        (staging / _COMPLETE).write_text(KAFKA_VERSION)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        tell(JarProgress(last.files, last.size, last.total_files, last.via, done=True))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _ensure_parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


# "[INFO] Downloaded from central: https://.../kafka_2.13-4.1.2.jar (6.7 MB at 3.2 MB/s)"
_DOWNLOADED = re.compile(r"^(?:\[INFO\] )?Downloaded from [^:]+: \S+ \((\d+(?:\.\d+)?) (B|kB|MB|GB) at")
_UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def downloaded_size(line: str) -> int | None:
    """The size in bytes of the file a line of Maven's batch output says it downloaded; None for other lines."""
    got = _DOWNLOADED.match(line.strip())
    return None if got is None else int(float(got.group(1)) * _UNITS[got.group(2)])


def _resolve_with_maven(out: Path, tell: Progress) -> JarProgress:
    log.info("resolving Apache Kafka %s jars with Maven", KAFKA_VERSION)
    cmd = [
        "mvn", "-B", "-f", str(resource_path("pom.xml")),
        "dependency:copy-dependencies", f"-DoutputDirectory={out}", "-DincludeScope=runtime",
    ]  # fmt: skip
    seen = JarProgress(0, 0, None, "Maven")
    tail: list[str] = []  # the last lines, for the message of a failure without [ERROR] lines
    errors: list[str] = []
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, cwd=out
    )
    assert proc.stdout is not None
    with proc:
        for line in proc.stdout:
            text = line.strip()
            if text.startswith("[ERROR]"):
                errors.append(text)
            elif text:
                tail = [*tail[-2:], text]
            size = downloaded_size(text)
            if size is not None:
                seen = JarProgress(seen.files + 1, seen.size + size, None, "Maven")
                tell(seen)
    if proc.returncode != 0:
        raise JarsUnavailable(
            "cannot fetch the Kafka jars with Maven (is Maven Central reachable?): " + " | ".join(errors[:2] or tail)
        )
    return seen


def _download(lock: list[LockedJar], out: Path, repo: str, tell: Progress) -> JarProgress:
    seen = JarProgress(0, 0, len(lock), repo)
    tell(seen)
    for jar in lock:
        url = f"{repo}/{jar.url_path}"
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - fixed https URL
                seen = _save(resp, out / jar.filename, seen, tell)
        except (urllib.error.URLError, OSError) as exc:
            raise JarsUnavailable(f"cannot download {url}: {exc}") from exc
        seen = JarProgress(seen.files + 1, seen.size, len(lock), repo)
        tell(seen)
    return seen


def _save(resp: Any, path: Path, seen: JarProgress, tell: Progress) -> JarProgress:
    """Write an answer's body to ``path`` as it comes, telling how many bytes have come."""
    with path.open("wb") as file:
        while chunk := resp.read(256 * 1024):
            file.write(chunk)
            seen = JarProgress(seen.files, seen.size + len(chunk), seen.total_files, seen.via)
            tell(seen)
    return seen


def _verify(lock: list[LockedJar], out: Path) -> None:
    for jar in lock:
        path = out / jar.filename
        if not path.exists():
            raise JarsUnavailable(f"{jar.filename} is missing after resolution (pom.xml and jars.lock disagree)")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != jar.sha256:
            raise JarsUnavailable(f"{jar.filename} has checksum {digest}, expected {jar.sha256}")
