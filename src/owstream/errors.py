"""The exception tree. Every subsystem has one root; the CLI prints ``str(exc)`` of any
:class:`OwstreamError` as a one-line message and exits non-zero.

::

    OwstreamError
    ├── ConfigError
    ├── InvalidBattleTag            (also a ValueError)
    ├── BusError                    owstream.bus: Kafka
    │   ├── BrokerError             the local broker cannot be started or stopped
    │   │   ├── JavaNotFound
    │   │   ├── PortInUse
    │   │   └── JarsUnavailable
    │   ├── KafkaUnavailable        no broker answers at the bootstrap address
    │   │   └── KafkaRefused        a broker answers but refuses the credentials or the TLS handshake
    │   ├── TransactionAborted      a Kafka transaction was aborted: its messages are never visible, redo it
    │   └── TransactionFenced       another instance took this transactional.id over: stop
    ├── OverFastError               owstream.overfast: the HTTP API
    │   ├── PlayerNotFound          404, with retry_after
    │   ├── UpstreamBusy            429 / 503, with retry_after
    │   ├── UpstreamUnavailable     504 / 500 / timeouts / connection errors, after retries
    │   ├── MalformedResponse       a body that is not the JSON the API documents
    │   └── ClientBug               422: the request itself was wrong
    ├── StoreError                  owstream.store
    │   ├── StoreUnavailable        the database cannot be reached, is locked, read-only or full: retry later
    │   ├── StoreRejected           the database refuses this data (a constraint, a value out of range)
    │   │   └── WatchlistFull       the watchlist holds OWSTREAM_WATCHLIST_MAX players already
    │   └── StoreLost               the store's file was removed, replaced or emptied: stop, `owstream replay`
    ├── UnknownSeason               a season the store holds no snapshot of
    ├── ProcessingError             a message that cannot be normalised (goes to the dead-letter topic)
    ├── RequestTimeout              a fetch request was not answered in time
    ├── FetchFailed                 a fetch was answered: not found, private, OverFast unreachable or busy, expired
    └── NotStored                   the store holds nothing of that player (yet)
"""

from __future__ import annotations


class OwstreamError(Exception):
    """Root of every error owstream raises on purpose."""


class ConfigError(OwstreamError):
    """A setting has a value that cannot work."""


class InvalidBattleTag(OwstreamError, ValueError):  # noqa: N818 - reads as the situation
    """The text is not a BattleTag."""


class BusError(OwstreamError):
    """Root of the Kafka layer's errors."""


class BrokerError(BusError):
    """The local broker cannot be started, reached or stopped."""


class JavaNotFound(BrokerError):  # noqa: N818
    """No Java 17+ runtime to run the local broker."""


class PortInUse(BrokerError):  # noqa: N818
    """A port the local broker needs is taken."""


class JarsUnavailable(BrokerError):  # noqa: N818
    """The Kafka jars are not cached and cannot be fetched."""


class KafkaUnavailable(BusError):  # noqa: N818
    """No broker answers at the bootstrap address."""


class KafkaRefused(KafkaUnavailable):
    """A broker answers but refuses this client: wrong SASL credentials, or TLS it cannot agree on."""


class TransactionAborted(BusError):  # noqa: N818
    """A Kafka transaction had to be aborted (a broker away too long, a rebalance): its messages and offsets
    are never visible; the work is done again in a new transaction."""


class TransactionFenced(BusError):  # noqa: N818
    """Another instance uses this transactional.id (or Kafka says this producer is fenced): this one stops."""


class OverFastError(OwstreamError):
    """Root of the OverFast client's errors."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PlayerNotFound(OverFastError):  # noqa: N818
    """OverFast answered 404: no such player (yet). ``retry_after`` says when to ask again."""


class UpstreamBusy(OverFastError):  # noqa: N818
    """429 (our rate limit) or 503 (Blizzard rate-limits OverFast); ``retry_after`` seconds."""


class UpstreamUnavailable(OverFastError):  # noqa: N818
    """504/500, a timeout or a connection error that outlived the retries."""


class MalformedResponse(OverFastError):  # noqa: N818
    """The body is not the JSON the API documents."""


class ClientBug(OverFastError):  # noqa: N818
    """422: OverFast rejected the request's parameters; a bug in owstream."""


class StoreError(OwstreamError):
    """The store cannot be opened, migrated or written."""


class StoreUnavailable(StoreError):  # noqa: N818
    """The database cannot be reached, or is locked by another writer: the write is retried, nothing is lost."""


class StoreRejected(StoreError):  # noqa: N818
    """The database refuses this data (a constraint, a value out of range): retrying will not help."""


class StoreLost(StoreError):  # noqa: N818
    """The store is not the one that was opened (its file removed, replaced or emptied, its identity row gone):
    what was written since is not kept. The processor stops; ``owstream replay`` rebuilds the store."""


class WatchlistFull(StoreRejected):
    """The watchlist holds as many players as it may (``OWSTREAM_WATCHLIST_MAX``)."""


class UnknownSeason(OwstreamError):  # noqa: N818
    """The player has no stored snapshot in the season asked for; the message lists those stored."""


class ProcessingError(OwstreamError):
    """A message that cannot be parsed or normalised."""


class RequestTimeout(OwstreamError):  # noqa: N818
    """A fetch request was not answered in time."""


class FetchFailed(OwstreamError):  # noqa: N818 - reads as the situation
    """A fetch was answered, but not with stats: ``outcome`` is not_found, private, upstream_error or expired."""

    def __init__(self, message: str, *, outcome: str | None, player_id: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.player_id = player_id
        self.retry_after = retry_after


class NotStored(OwstreamError):  # noqa: N818
    """The store holds nothing of that player (yet)."""
