"""The reliability harness (``make reliability``): real processes on a real broker, faults of every kind,
everything counted from outside. :mod:`reliability.scenarios` says what each fault does,
:mod:`reliability.count` how a run is counted, :mod:`reliability.runner` prints the table."""
