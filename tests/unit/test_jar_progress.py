"""What the first start says while it fetches the Kafka jars (Maven's own lines, read as they come)."""

from __future__ import annotations

from owstream.localkafka.jars import KAFKA_VERSION, JarProgress, downloaded_size

# lines of `mvn -B dependency:copy-dependencies` on an empty local repository (Maven 3.8.7)
CENTRAL = "https://repo.maven.apache.org/maven2"
MAVEN_LINES = [
    f"[INFO] Downloading from central: {CENTRAL}/org/apache/maven/plugins/maven-plugins/22/maven-plugins-22.pom",
    f"[INFO] Downloaded from central: {CENTRAL}/org/apache/maven/plugins/maven-clean-plugin/2.5/"
    "maven-clean-plugin-2.5.pom (3.9 kB at 9.9 kB/s)",
    f"[INFO] Downloaded from central: {CENTRAL}/org/apache/kafka/kafka_2.13/4.1.2/kafka_2.13-4.1.2.jar "
    "(6.7 MB at 3.2 MB/s)",
    f"[INFO] Downloaded from central: {CENTRAL}/org/x/y/1/y-1.pom (512 B at 20 kB/s)",
    "[INFO] BUILD SUCCESS",
]


def test_maven_lines_of_downloaded_files_give_their_sizes_and_others_none() -> None:
    assert [downloaded_size(line) for line in MAVEN_LINES] == [None, 3900, 6_700_000, 512, None]


def test_progress_says_how_far_and_what_is_left_for_later() -> None:
    fetching = JarProgress(12, 20_100_000, 46, "https://repo1.maven.org/maven2")
    assert fetching.describe() == (
        f"fetching the Kafka {KAFKA_VERSION} jars from https://repo1.maven.org/maven2 (first start only): "
        "12 of 46 files, 20.1 MB"
    )
    done = JarProgress(407, 52_000_000, None, "Maven", done=True)
    assert done.describe() == (
        f"fetched the Kafka {KAFKA_VERSION} jars with Maven: 407 files, 52.0 MB (cached for the next starts)"
    )


def test_off_a_terminal_the_download_is_said_when_it_begins_now_and_then_and_when_done() -> None:
    import io

    from rich.console import Console

    from owstream.runtime.kafka import JarReporter

    stream = io.StringIO()
    report = JarReporter(Console(file=stream, width=200), every=3600.0)
    for files in range(5):
        report(JarProgress(files, files * 1_000_000, 5, "http://127.0.0.1:1"))
    report(JarProgress(5, 5_000_000, 5, "http://127.0.0.1:1", done=True))
    lines = stream.getvalue().splitlines()
    assert lines == [
        f"fetching the Kafka {KAFKA_VERSION} jars from http://127.0.0.1:1 (first start only): 0 of 5 files, 0.0 MB",
        f"fetched the Kafka {KAFKA_VERSION} jars from http://127.0.0.1:1: 5 of 5 files, 5.0 MB "
        "(cached for the next starts)",
    ]


def test_on_a_terminal_a_download_that_fails_gives_the_cursor_back() -> None:
    import io

    import pytest
    from rich.console import Console

    from owstream.runtime.kafka import JarReporter

    stream = io.StringIO()
    with pytest.raises(OSError), JarReporter(Console(file=stream, force_terminal=True, width=200)) as report:
        report(JarProgress(1, 1_000_000, 5, "http://127.0.0.1:1"))
        raise OSError("cannot download")
    shown = stream.getvalue()
    assert "\x1b[?25l" in shown  # the cursor hidden while the line changed...
    assert shown.rindex("\x1b[?25h") > shown.rindex("\x1b[?25l")  # ...and shown again once it failed
