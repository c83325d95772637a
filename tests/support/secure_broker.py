"""A local broker whose client listener is SASL_SSL (SCRAM-SHA-512 over TLS) on 127.0.0.1, for the security
tests: a CA and a broker certificate made here with openssl, SCRAM credentials created by the storage tool
when it formats the storage (``--add-scram``). The KRaft controller listener stays PLAINTEXT on loopback;
the brokers' own traffic uses the SASL_SSL listener with a SCRAM user of its own.

An authorizer (StandardAuthorizer) is on: the tests' user is a super user (it creates the topics and the
ACLs), and each service has a SCRAM user of its own with no right until ``bus/acls.py`` grants it some.

The clients connect with owstream's own settings (``OWSTREAM_KAFKA_SECURITY_PROTOCOL`` and the rest), as
they would to a secured cluster elsewhere: ``SecureBroker.settings`` names the listener in
``kafka_bootstrap``.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from owstream.bus.acls import SERVICES
from owstream.config import Secret, Settings
from owstream.localkafka import LocalBroker, free_port

CLIENT_USER = "owstream-test"
BROKER_USER = "broker"
MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class SecureBroker:
    settings: Settings  # what a client needs: bootstrap, SASL_SSL, the user (a super user), its password, the CA
    broker: LocalBroker
    ca: Path
    service_users: dict[str, tuple[str, str]] = field(default_factory=dict)  # service -> (user, password)

    def stop(self) -> None:
        self.broker.stop()

    def with_service_users(self, settings: Settings) -> Settings:
        """``settings`` with every service's own SASL user (OWSTREAM_KAFKA_SASL_<SERVICE>_USERNAME/_PASSWORD)."""
        changes: dict[str, object] = {}
        for service, (user, password) in self.service_users.items():
            changes[f"kafka_sasl_{service}_username"] = user
            changes[f"kafka_sasl_{service}_password"] = Secret(password)
        return settings.replace(**changes)


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


def make_certificates(directory: Path) -> tuple[Path, Path]:
    """A throwaway CA and a broker certificate for 127.0.0.1 signed by it: (CA PEM, broker key+chain PEM)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=owstream test CA",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=directory)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "broker.key", "-out", "broker.csr", cwd=directory)  # fmt: skip
    (directory / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.cnf", "-out", "broker.pem", cwd=directory)  # fmt: skip
    # Kafka's PEM key store: the (unencrypted PKCS#8) key and the certificate chain in one file.
    keystore = directory / "broker-keystore.pem"
    keystore.write_text((directory / "broker.key").read_text() + (directory / "broker.pem").read_text())
    return directory / "ca.pem", keystore


def start_secure_broker(home: Path, *, timeout: float = 120.0) -> SecureBroker:
    """Start the broker in ``home`` (its jars already linked in) and return it with the client settings."""
    ca, keystore = make_certificates(home / "tls")
    client_password, broker_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    port, cport = free_port(), free_port()
    listeners = f"SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}"
    properties = {
        "listeners": listeners,
        "advertised.listeners": listeners,
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{BROKER_USER}" password="{broker_password}";'
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(ca),
        # An authorizer: a principal does only what ACLs allow (bus/acls.py). Super users: the broker itself,
        # the tests' administrator, and ANONYMOUS, which is how the broker's own requests arrive on the
        # PLAINTEXT controller listener (loopback only, controller requests only).
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{BROKER_USER};User:{CLIENT_USER};User:ANONYMOUS",
    }
    service_users = {service: (f"owstream-{service}", secrets.token_urlsafe(16)) for service in SERVICES}
    settings = Settings(
        home=home,
        kafka_bootstrap=f"127.0.0.1:{port}",
        kafka_port=port,
        kafka_controller_port=cport,
        kafka_partitions=3,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=MECHANISM,
        kafka_sasl_username=CLIENT_USER,
        kafka_sasl_password=Secret(client_password),
        kafka_ssl_ca_location=str(ca),
        store_url=f"sqlite:///{home / 'unused.db'}",
    )
    broker = LocalBroker(
        settings,
        brokers=1,
        properties=properties,
        scram={CLIENT_USER: client_password, BROKER_USER: broker_password, **dict(service_users.values())},
    )
    broker.start(timeout=timeout)
    return SecureBroker(settings, broker, ca, service_users)
