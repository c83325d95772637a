"""``owstream bench``: every benchmark of the suite is a script of bench/ with a ``run``; unknown names are
refused with the list. (The figures themselves are measured by ``make bench``, never asserted.)"""

from __future__ import annotations

import importlib
import sys

import pytest

from owstream.cli.bench import BENCH_DIR, SUITE, run_suite
from owstream.errors import OwstreamError


@pytest.mark.parametrize("name", sorted(SUITE))
def test_each_benchmark_is_a_script_with_a_run(name: str) -> None:
    script = SUITE[name][0]
    assert (BENCH_DIR / f"bench_{script}.py").is_file()
    sys.path.insert(0, str(BENCH_DIR))
    try:
        module = importlib.import_module(f"bench_{script}")
    finally:
        sys.path.remove(str(BENCH_DIR))
    assert callable(module.run) and module.__doc__


def test_an_unknown_benchmark_is_refused_with_the_list() -> None:
    with pytest.raises(OwstreamError, match=r"no benchmark nope \(there are: latency, commands"):
        run_suite(only=["nope"])
