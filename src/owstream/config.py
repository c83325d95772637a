"""The one settings object. Every field is read from an ``OWSTREAM_``-prefixed environment variable (or a
``.env`` file in the working directory; the environment wins); the comment above each field says what it does.

A frozen dataclass read by a few lines of code, not pydantic-settings: every command reads the settings,
and importing pydantic-settings alone took 0.17 s of a command's start. Closed settings are Literals (the
game's words from :mod:`owstream.domain.vocabulary`) and every value is checked when a Settings is made: a
wrong one is a ConfigError naming the variable and what it may be, at start-up, not when a service first
uses it.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self, get_args

from owstream.domain.vocabulary import REGIONS, Region
from owstream.errors import ConfigError

PUBLIC_OVERFAST_URL = "https://overfast-api.tekrop.fr"
ENV_PREFIX = "OWSTREAM_"


class Secret:
    """A value that is never printed: ``repr`` and ``str`` show stars; ``get_secret_value()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
LogLevel = Literal["", "DEBUG", "INFO", "WARNING", "ERROR"]
CLOSED: dict[str, tuple[str, ...]] = {
    "kafka_security_protocol": get_args(SecurityProtocol),
    "kafka_sasl_mechanism": get_args(SaslMechanism),
    "log_level": get_args(LogLevel),
    "meta_region": REGIONS,
}
# numbers that must be at least this (ports also at most 65535)
AT_LEAST: dict[str, float] = {
    "kafka_port": 1, "kafka_controller_port": 1, "kafka_brokers": 1, "kafka_partitions": 1,
    "kafka_replication_factor": 0, "rate_limit": 0.01, "overfast_timeout": 0.1, "overfast_max_attempts": 1,
    "overfast_max_backoff": 0, "overfast_cache_seconds": 0, "refresh_interval": 1, "meta_interval": 1,
    "processor_batch_size": 1, "dashboard_port": 1, "notify_timeout": 0.1, "notify_max_attempts": 1,
    "notify_max_wait": 0,
}  # fmt: skip
PORTS = ("kafka_port", "kafka_controller_port", "dashboard_port")


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "owstream"


@dataclass(frozen=True, slots=True)
class Settings:
    # Where owstream keeps its state: the SQLite store, the Kafka jars cache, broker data and logs.
    home: Path = field(default_factory=_default_home)

    # --- Kafka -------------------------------------------------------------------------------------
    # Bootstrap servers of an existing cluster ("host:port,..."). Empty: start and use the local broker.
    kafka_bootstrap: str = ""
    # Client port of the local broker (127.0.0.1 only). Used when kafka_bootstrap is empty; a 3-node local
    # cluster uses this port and the next two.
    kafka_port: int = 19092
    # Controller (KRaft) port of the local broker (127.0.0.1 only); a 3-node cluster uses the next two too,
    # or the three after its client ports when the two ranges overlap (the defaults: 19095-19097).
    kafka_controller_port: int = 19093
    # Nodes of the local cluster that `owstream kafka start` and `owstream up` run: 1, or 3 (replication
    # factor 3, min.insync.replicas 2).
    kafka_brokers: int = 1
    # JVM heap options of each local broker node; Kafka relies on the page cache, not the heap.
    kafka_heap_opts: str = "-Xms32m -Xmx192m"
    # JAVA_HOME to run the local broker with (Java 17+). Empty: JAVA_HOME from the environment, then PATH.
    java_home: str = ""
    # Prefix of every topic name and consumer group: "<prefix>.fetch-requests" and so on.
    topic_prefix: str = "owstream"
    # Partitions of the keyed topics: the upper bound of fetchers/processors working in parallel.
    kafka_partitions: int = 6
    # Replication factor of new topics; 0: as many brokers as the cluster has, at most 3.
    kafka_replication_factor: int = 0
    # Security protocol for a remote cluster: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    # SASL mechanism for a remote cluster: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (empty: none).
    kafka_sasl_mechanism: SaslMechanism = ""
    # SASL user name.
    kafka_sasl_username: str = ""
    # SASL password.
    kafka_sasl_password: Secret = field(default_factory=Secret)
    # CA certificate file (PEM) to verify the brokers' TLS certificates; empty: the system store.
    kafka_ssl_ca_location: str = ""
    # Per-service SASL users (least privilege: each service its own principal, with the ACLs of
    # docs/topics.md). Empty: the service uses kafka_sasl_username/kafka_sasl_password like the CLI does.
    # SASL user of the fetcher (empty: the shared one).
    kafka_sasl_fetcher_username: str = ""
    # SASL password of the fetcher.
    kafka_sasl_fetcher_password: Secret = field(default_factory=Secret)
    # SASL user of the processor (empty: the shared one).
    kafka_sasl_processor_username: str = ""
    # SASL password of the processor.
    kafka_sasl_processor_password: Secret = field(default_factory=Secret)
    # SASL user of the scheduler (empty: the shared one).
    kafka_sasl_scheduler_username: str = ""
    # SASL password of the scheduler.
    kafka_sasl_scheduler_password: Secret = field(default_factory=Secret)
    # SASL user of the meta (empty: the shared one).
    kafka_sasl_meta_username: str = ""
    # SASL password of the meta.
    kafka_sasl_meta_password: Secret = field(default_factory=Secret)
    # SASL user of the notifier (empty: the shared one).
    kafka_sasl_notifier_username: str = ""
    # SASL password of the notifier.
    kafka_sasl_notifier_password: Secret = field(default_factory=Secret)
    # SASL user of the dashboard (empty: the shared one).
    kafka_sasl_dashboard_username: str = ""
    # SASL password of the dashboard.
    kafka_sasl_dashboard_password: Secret = field(default_factory=Secret)
    # The name of this service instance, unique among the instances of one service: the stable part of the
    # fetcher's and processor's Kafka transactional.id (a restarted instance fences its dead predecessor).
    # Empty: the host name.
    instance_id: str = ""

    # --- Store -------------------------------------------------------------------------------------
    # SQLAlchemy URL of the store. Empty: SQLite file <home>/owstream.db (WAL mode).
    # PostgreSQL: postgresql+psycopg://user:password@host/dbname
    store_url: str = ""

    # --- OverFast ----------------------------------------------------------------------------------
    # Base URL of the OverFast API (the public instance, a self-hosted one, or `owstream simulate`).
    overfast_url: str = PUBLIC_OVERFAST_URL
    # Requests per second to OverFast from one process (the public instance allows 30/s per IP).
    rate_limit: float = 5.0
    # Seconds one OverFast request may take in all (connecting, waiting, reading the whole body); OverFast
    # itself gives Blizzard 10 s.
    overfast_timeout: float = 15.0
    # Attempts per request on 429/503/504/500/timeouts before the outcome is "upstream_error".
    overfast_max_attempts: int = 4
    # Upper bound in seconds on one backoff wait (Retry-After above it is reported, not slept).
    overfast_max_backoff: float = 60.0
    # OverFast caches players for this long: a player fetched more recently is not fetched again
    # unless forced, and the scheduler never refreshes faster.
    overfast_cache_seconds: int = 600
    # Scheduled refreshes ask the summary alone, and the stats only when last_updated_at or a rank moved
    # (docs/scaling.md). false: every refresh asks the summary and the stats at once, as before.
    fetch_summary_first: bool = True
    # The local IP address this process's OverFast requests leave from (one of the machine's egress addresses:
    # one fetcher per address, each within that address's limit; docs/scaling.md). Empty: the system's choice.
    overfast_source_address: str = ""

    # --- Services ----------------------------------------------------------------------------------
    # How often (seconds) the scheduler requests a fetch of each watchlist player (>= overfast_cache_seconds).
    refresh_interval: int = 600
    # Refresh a player idle for more than a day less often, in proportion, up to refresh_max_interval after a
    # week idle (docs/scaling.md). false: every player every refresh_interval.
    refresh_adaptive: bool = True
    # The longest time (seconds) between two refreshes of an idle tracked player.
    refresh_max_interval: int = 3600
    # How often (seconds) the meta service asks OverFast's /heroes/stats for each combination of platform,
    # region, gamemode and division. OverFast caches those answers for an hour: below 3600 s against the
    # real API it only returns the same answer again.
    meta_interval: int = 3600
    # The region `owstream meta` and the dashboard show by default: americas, europe or asia.
    meta_region: Region = "europe"
    # Messages the processor takes from Kafka per store transaction, at most (it takes what has arrived).
    processor_batch_size: int = 500
    # Address the dashboard binds to; 0.0.0.0 only behind a reverse proxy.
    dashboard_address: str = "127.0.0.1"
    # Port of the Streamlit dashboard.
    dashboard_port: int = 8501
    # Log level: DEBUG, INFO, WARNING, ERROR. Empty: INFO for services (run, up), WARNING for commands.
    log_level: LogLevel = ""

    # --- The dashboard on a public host: the owner and visitors --------------------------------------
    # Visitors look players up, fetch them (within the quotas below) and compare them; changing the watchlist
    # and alerts, and forcing a refresh past OverFast's cache, is the owner's. The owner's token (a password
    # set at deploy time; entered in the dashboard's sidebar, compared in constant time). Empty: on a loopback
    # dashboard_address (your own machine) every session is the owner; on any other address nobody is, and
    # those controls are off and say why.
    owner_token: Secret = field(default_factory=Secret)
    # E-mail addresses (comma-separated) that are the owner when signed in with Streamlit's OIDC login
    # (st.login; configured in .streamlit/secrets.toml under [auth]). Empty: OIDC sign-in grants nothing.
    owner_emails: str = ""
    # Fetch requests one visitor's browser session may send per hour (a squad's members count one each).
    session_fetches_per_hour: int = 20
    # Fetch requests all visitors of one dashboard process may send per minute together.
    fetches_per_minute: int = 30
    # Forced refreshes (past OverFast's 10-minute cache; the owner's only) per hour, for the whole dashboard.
    forced_refreshes_per_hour: int = 30
    # Requests waiting for a fetcher (the fetch-requests consumer lag) beyond which a visitor's new request
    # is refused ("busy: N ahead in the queue") instead of queued.
    fetch_backlog_max: int = 200
    # Players the watchlist may hold (the scheduler fetches each every refresh_interval).
    watchlist_max: int = 100

    # --- Alerts (the notifier) -----------------------------------------------------------------------
    # Seconds one webhook request may take (connecting, sending, reading the answer).
    notify_timeout: float = 5.0
    # Attempts per alert (on 429, 5xx, timeouts and connection errors) before it is given up.
    notify_max_attempts: int = 8
    # Upper bound in seconds on one wait between attempts: the backoff and a webhook's Retry-After alike.
    notify_max_wait: float = 300.0
    # Webhook receivers inside that alerts may reach anyway (comma-separated host names, addresses or CIDR
    # networks: "hooks.lan,10.0.0.5,192.168.1.0/24"). Empty: webhooks reach public addresses only; loopback,
    # private, link-local (169.254.169.254), multicast, reserved and unspecified ones are refused.
    notify_allow: str = ""

    # --- construction ------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        """Every closed setting one of its values, every number in its range: one clear ConfigError."""
        for name, allowed in CLOSED.items():
            value = getattr(self, name)
            if name in ("log_level", "kafka_security_protocol", "kafka_sasl_mechanism") and isinstance(value, str):
                object.__setattr__(self, name, value := value.strip().upper())
            if value not in allowed:
                shown = ", ".join(a or repr(a) for a in allowed)
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}={value!r} is not one of: {shown}")
        for name, least in AT_LEAST.items():
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < least or (name in PORTS and value > 65535):
                bound = f"{least:g} to 65535" if name in PORTS else f"at least {least:g}"
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}={value!r} is out of range ({bound})")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Self:
        """The settings of ``OWSTREAM_*`` variables in ``environ`` (default: the process's) and ``env_file``."""
        values = _read_env_file(Path(env_file)) if env_file is not None else {}
        values.update(os.environ if environ is None else environ)
        found: dict[str, Any] = {}
        for f in fields(cls):
            raw = values.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                found[f.name] = _convert(f.name, f.type, raw)
        return cls(**found)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (field name -> value)."""
        return dataclasses.replace(self, **changes)

    def as_env(self) -> dict[str, str]:
        """Every setting as the OWSTREAM_* variable that reproduces it (for child processes)."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Secret):
                value = value.get_secret_value()
            env[ENV_PREFIX + f.name.upper()] = str(value)
        return env

    # --- derived values ----------------------------------------------------------------------------
    @property
    def resolved_store_url(self) -> str:
        """The store URL with the SQLite default filled in."""
        return self.store_url or f"sqlite:///{self.home / 'owstream.db'}"

    def for_service(self, service: str) -> Self:
        """These settings as ``service`` connects to Kafka: its own SASL user and password
        (``kafka_sasl_<service>_username``/``_password``) when it has one, else the shared ones."""
        user = getattr(self, f"kafka_sasl_{service}_username", "")
        if not user:
            return self
        return self.replace(
            kafka_sasl_username=user, kafka_sasl_password=getattr(self, f"kafka_sasl_{service}_password")
        )

    @property
    def uses_local_broker(self) -> bool:
        return not self.kafka_bootstrap.strip()

    @property
    def bootstrap_servers(self) -> str:
        """Where clients connect: the configured cluster or the local broker (every node of it)."""
        if self.uses_local_broker:
            return ",".join(f"127.0.0.1:{self.kafka_port + i}" for i in range(max(1, self.kafka_brokers)))
        return self.kafka_bootstrap.strip()

    @property
    def instance(self) -> str:
        """This instance's name (``instance_id``, else the host name)."""
        return self.instance_id.strip() or socket.gethostname()


def _read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a dotenv file (``#`` comments, optional ``export`` and quotes); {} if absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _convert(name: str, kind: Any, raw: str) -> Any:
    """``raw`` as the field's type (the annotations are strings: ``from __future__ import annotations``)."""
    variable = ENV_PREFIX + name.upper()
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError(raw)
            return lowered in _TRUE
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not a valid {kind}") from None
    if kind == "Path":
        return Path(raw).expanduser()
    if kind == "Secret":
        return Secret(raw)
    return raw


def explicit_names(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> frozenset[str]:
    """The names of the settings given explicitly: an ``OWSTREAM_*`` variable of ``environ`` (default: the
    process's) or of ``env_file``. (The others may come from a running stack: owstream.runtime.stack.)"""
    values = _read_env_file(Path(env_file)) if env_file is not None else {}
    values.update(os.environ if environ is None else environ)
    return frozenset(f.name for f in fields(Settings) if ENV_PREFIX + f.name.upper() in values)


@lru_cache(maxsize=1)
def explicit_settings() -> frozenset[str]:
    """:func:`explicit_names` of this process, read once."""
    return explicit_names()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
