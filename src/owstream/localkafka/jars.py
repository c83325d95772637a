"""The local broker's jars: Apache Kafka from Maven Central, pinned, checksummed and cached.

Resolution: ``mvn dependency:copy-dependencies`` on the bundled ``kafka/pom.xml``; where there is no
``mvn``, the same pinned jars (``kafka/jars.lock``: coordinates and SHA-256) are downloaded directly.
Either way they are checked against the lock and cached under ``OWSTREAM_HOME/kafka/jars/<version>``,
so the second start is offline.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

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


def ensure_jars(home: Path, *, maven_repo: str = MAVEN_CENTRAL) -> Path:
    """Return the directory holding every jar of the broker, resolving them on first use."""
    target = jars_dir(home)
    if (target / _COMPLETE).exists():
        return target
    lock = read_lock()
    staging = Path(tempfile.mkdtemp(prefix="jars-", dir=_ensure_parent(target)))
    try:
        if shutil.which("mvn"):
            _resolve_with_maven(staging)
        else:
            log.info("mvn not found: downloading the %d pinned jars from %s", len(lock), maven_repo)
            _download(lock, staging, maven_repo)
        _verify(lock, staging)
        (staging / _COMPLETE).write_text(KAFKA_VERSION)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _ensure_parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


def _resolve_with_maven(out: Path) -> None:
    log.info("resolving Apache Kafka %s jars with Maven", KAFKA_VERSION)
    cmd = [
        "mvn", "-B", "-q", "-f", str(resource_path("pom.xml")),
        "dependency:copy-dependencies", f"-DoutputDirectory={out}", "-DincludeScope=runtime",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=out)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise JarsUnavailable(
            "cannot fetch the Kafka jars with Maven (is Maven Central reachable?): " + " | ".join(tail)
        )


def _download(lock: list[LockedJar], out: Path, repo: str) -> None:
    for jar in lock:
        url = f"{repo}/{jar.url_path}"
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - fixed https URL
                (out / jar.filename).write_bytes(resp.read())
        except (urllib.error.URLError, OSError) as exc:
            raise JarsUnavailable(f"cannot download {url}: {exc}") from exc


def _verify(lock: list[LockedJar], out: Path) -> None:
    for jar in lock:
        path = out / jar.filename
        if not path.exists():
            raise JarsUnavailable(f"{jar.filename} is missing after resolution (pom.xml and jars.lock disagree)")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != jar.sha256:
            raise JarsUnavailable(f"{jar.filename} has checksum {digest}, expected {jar.sha256}")
