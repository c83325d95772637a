"""``owstream simulate --host``: the simulator binds the address it is given (compose.yaml gives 0.0.0.0 inside
its network) and no other; 127.0.0.1 unless told."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from owstream.localkafka import free_port


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_the_simulator_serves_on_the_address_it_is_given_and_not_on_another() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "owstream.cli", "simulate", "--host", "127.0.0.2", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not answers(f"http://127.0.0.2:{port}/gamemodes"):
            assert proc.poll() is None, "the simulator exited"
            assert time.monotonic() < deadline, "the simulator did not answer on 127.0.0.2 within 60 s"
            time.sleep(0.2)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0  # not on another address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_simulators_default_address_is_loopback() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "simulate", "--help"],
        capture_output=True, text=True, timeout=60, check=True, env={"COLUMNS": "200", "PATH": ""},
    ).stdout  # fmt: skip
    assert "[default: 127.0.0.1]" in help_text
