"""The domain: what a BattleTag, a snapshot, a session, a season, an alert and the meta are, as pure
functions and plain types. No I/O and no vendor library here (tests/unit/test_layers.py); the adapters
(``messages``, ``store``, ``bus``, ``overfast``) bring data in and out."""
