"""The one settings object. Every field is read from an ``OWSTREAM_``-prefixed environment variable
(or a ``.env`` file in the working directory); the comment above each field says what it does."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PUBLIC_OVERFAST_URL = "https://overfast-api.tekrop.fr"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OWSTREAM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where owstream keeps its state: the SQLite store, the Kafka jars cache, broker data and logs.
    home: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "owstream")

    # --- Kafka -------------------------------------------------------------------------------------
    # Bootstrap servers of an existing cluster ("host:port,..."). Empty: start and use the local broker.
    kafka_bootstrap: str = ""
    # Client port of the local broker (127.0.0.1 only). Used when kafka_bootstrap is empty.
    kafka_port: int = 19092
    # Controller (KRaft) port of the local broker (127.0.0.1 only).
    kafka_controller_port: int = 19093
    # JVM heap options of the local broker; Kafka relies on the page cache, not the heap.
    kafka_heap_opts: str = "-Xms256m -Xmx1g"
    # JAVA_HOME to run the local broker with (Java 17+). Empty: JAVA_HOME from the environment, then PATH.
    java_home: str = ""
    # Prefix of every topic name and consumer group: "<prefix>.fetch-requests" and so on.
    topic_prefix: str = "owstream"
    # Partitions of the keyed topics: the upper bound of fetchers/processors working in parallel.
    kafka_partitions: int = 6
    # Replication factor of the topics: 1 for the local broker, 3 on a production cluster.
    kafka_replication_factor: int = 1
    # Security protocol for a remote cluster: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    kafka_security_protocol: str = "PLAINTEXT"
    # SASL mechanism for a remote cluster: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (empty: none).
    kafka_sasl_mechanism: str = ""
    # SASL user name.
    kafka_sasl_username: str = ""
    # SASL password.
    kafka_sasl_password: SecretStr = SecretStr("")
    # CA certificate file (PEM) to verify the brokers' TLS certificates; empty: the system store.
    kafka_ssl_ca_location: str = ""

    # --- Store -------------------------------------------------------------------------------------
    # SQLAlchemy URL of the store. Empty: SQLite file <home>/owstream.db (WAL mode).
    # PostgreSQL: postgresql+psycopg://user:password@host/dbname
    store_url: str = ""

    # --- OverFast ----------------------------------------------------------------------------------
    # Base URL of the OverFast API (the public instance, a self-hosted one, or `owstream simulate`).
    overfast_url: str = PUBLIC_OVERFAST_URL
    # Requests per second to OverFast from one process (the public instance allows 30/s per IP).
    rate_limit: float = 5.0
    # Seconds before an OverFast request times out (OverFast itself gives Blizzard 10 s).
    overfast_timeout: float = 15.0
    # Attempts per request on 429/503/504/500/timeouts before the outcome is "upstream_error".
    overfast_max_attempts: int = 4
    # Upper bound in seconds on one backoff wait (Retry-After above it is reported, not slept).
    overfast_max_backoff: float = 60.0
    # OverFast caches players for this long: a player fetched more recently is not fetched again
    # unless forced, and the scheduler never refreshes faster.
    overfast_cache_seconds: int = 600

    # --- Services ----------------------------------------------------------------------------------
    # How often (seconds) the scheduler requests a fetch of each watchlist player (>= overfast_cache_seconds).
    refresh_interval: int = 600
    # Messages the processor takes from Kafka per store transaction.
    processor_batch_size: int = 500
    # Address the dashboard binds to; 0.0.0.0 only behind a reverse proxy.
    dashboard_address: str = "127.0.0.1"
    # Port of the Streamlit dashboard.
    dashboard_port: int = 8501
    # Log level: DEBUG, INFO, WARNING, ERROR. Empty: INFO for services (run, up), WARNING for commands.
    log_level: str = ""

    def as_env(self) -> dict[str, str]:
        """Every setting as the OWSTREAM_* variable that reproduces it (for child processes)."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"OWSTREAM_{name.upper()}"] = str(value)
        return env

    @property
    def resolved_store_url(self) -> str:
        """The store URL with the SQLite default filled in."""
        return self.store_url or f"sqlite:///{self.home / 'owstream.db'}"

    @property
    def uses_local_broker(self) -> bool:
        return not self.kafka_bootstrap.strip()

    @property
    def bootstrap_servers(self) -> str:
        """Where clients connect: the configured cluster or the local broker."""
        if self.uses_local_broker:
            return f"127.0.0.1:{self.kafka_port}"
        return self.kafka_bootstrap.strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
