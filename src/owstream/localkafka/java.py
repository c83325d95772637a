"""Finding a Java 17+ runtime for the local broker."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from owstream.errors import JavaNotFound

MIN_JAVA = 17
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def find_java(java_home: str = "") -> Path:
    """The java executable: ``java_home`` setting, then $JAVA_HOME, then PATH; must be Java 17+."""
    candidates: list[Path] = []
    for home in (java_home, os.environ.get("JAVA_HOME", "")):
        if home:
            candidates.append(Path(home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    for java in candidates:
        if not java.exists():
            continue
        major = java_major_version(java)
        if major is not None and major >= MIN_JAVA:
            return java
        seen.append(f"{java} is Java {major}")
    detail = f" ({'; '.join(seen)})" if seen else ""
    raise JavaNotFound(
        f"the local Kafka broker needs Java {MIN_JAVA}+ and none was found{detail}: install a JDK "
        "(e.g. apt-get install openjdk-17-jre-headless) or set OWSTREAM_JAVA_HOME"
    )


def java_major_version(java: Path) -> int | None:
    try:
        proc = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(proc.stderr + proc.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major
