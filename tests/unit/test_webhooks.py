"""Webhooks cannot reach inside: every address kind refused (IPv4, IPv6, v4-mapped), checked when the URL is
set and again at connect time, the connection made to the address checked, redirects never followed, an
allow-list for a receiver inside. The receivers are real HTTP servers on 127.0.0.1: a refused POST is one
they never receive. Host names other than localhost are answered by a resolver the test gives (no DNS)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from owstream.cli.commands import checked_webhook
from owstream.config import Settings
from owstream.domain.addresses import NOTHING, address_problem, parse_allowed, refusal
from owstream.errors import ConfigError, OwstreamError
from owstream.services.webhooks import WebhookSender, resolve, webhook_problem
from support.secure_broker import make_certificates
from support.webhooks import Answer, WebhookReceiver

BODY = {"content": "TeKrop-2217 played 3 games"}
LOOPBACK = parse_allowed("127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "not a public internet address"),  # shared address space (carrier NAT)
        ("::ffff:127.0.0.1", "loopback"),  # v4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 carrying 127.0.0.1
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 carrying 169.254.169.254
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 carrying 169.254.169.254
        ("64:ff9b::7f00:1", "loopback"),
        ("fec0::1", "site-local"),
    ],
)
def test_every_inside_address_is_refused_with_its_kind(address: str, kind: str) -> None:
    problem = address_problem(address)
    assert problem is not None and kind in problem


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4007:80f::200e", "64:ff9b::5db8:d822"],  # NAT64
)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


def test_a_name_with_one_inside_address_among_public_ones_is_refused() -> None:
    problem = refusal("hooks.example.com", ["93.184.216.34", "10.0.0.7"])
    assert problem is not None and problem.startswith("hooks.example.com resolves to 10.0.0.7, a private address")


def test_an_address_with_a_zone_id_is_judged_as_the_address_it_is_not_left_to_a_resolver() -> None:
    url = "http://[fe80::1%25eth0]:8080/api/webhooks/1/zone-token"  # RFC 6874's zone id: getaddrinfo fails on it
    problem = webhook_problem(url)
    assert problem is not None and problem.startswith("fe80::1%25eth0 is a link-local address")
    sent = WebhookSender()(url, BODY, 2.0)
    assert not sent.ok and sent.final  # refused for good, not retried as a name that does not resolve
    assert sent.error is not None and "link-local" in sent.error and "zone-token" not in sent.error


def test_the_allow_list_takes_hosts_addresses_and_networks() -> None:
    allowed = parse_allowed(" hooks.lan, 10.0.0.5 ,192.168.1.0/24, ::1, [fd00::1]")
    assert allowed.allows_host("HOOKS.lan.") and not allowed.allows_host("other.lan")
    assert refusal("x", ["10.0.0.5"], allowed) is None and refusal("x", ["10.0.0.6"], allowed) is not None
    assert refusal("x", ["192.168.1.77", "::1", "fd00::1"], allowed) is None
    assert refusal("x", ["::ffff:10.0.0.5"], allowed) is None  # the IPv4 it carries is allowed
    assert refusal("hooks.lan", ["169.254.169.254"], allowed) is None  # a named host: whatever it resolves to
    for bad in ("10.0.0.0/33", "http://hooks.lan", "a b", "hooks..lan"):
        with pytest.raises(ConfigError, match="OWSTREAM_NOTIFY_ALLOW"):
            parse_allowed(bad)


def loopback_urls(receiver: WebhookReceiver) -> list[str]:
    port = receiver.url().split(":")[2].split("/")[0]
    path = "/api/webhooks/1/the-secret-token"
    return [
        f"http://127.0.0.1:{port}{path}",
        f"http://localhost:{port}{path}",
        f"http://[::ffff:127.0.0.1]:{port}{path}",  # v4-mapped
        f"http://2130706433:{port}{path}",  # 127.0.0.1 as one number
        f"http://0x7f.0.0.1:{port}{path}",  # and in hex
        f"http://127.1:{port}{path}",
    ]


def test_loopback_in_any_spelling_is_refused_at_send_and_the_receiver_gets_nothing(receiver: WebhookReceiver) -> None:
    send = WebhookSender()
    for url in loopback_urls(receiver):
        sent = send(url, BODY, 2.0)
        assert not sent.ok and sent.final, url
        assert sent.error is not None and "loopback address" in sent.error and "the-secret-token" not in sent.error
    assert receiver.received == []


def test_the_allow_list_lets_a_receiver_inside_have_its_alerts(receiver: WebhookReceiver) -> None:
    sent = WebhookSender(LOOPBACK)(receiver.url(), BODY, 2.0)
    assert sent.ok and sent.status == 204
    assert [r.body for r in receiver.delivered()] == [BODY]
    by_name = WebhookSender(parse_allowed("localhost"))(receiver.url().replace("127.0.0.1", "localhost"), BODY, 2.0)
    assert by_name.ok and len(receiver.delivered()) == 2


def test_a_redirect_is_not_followed_and_the_delivery_is_not_sent(receiver: WebhookReceiver) -> None:
    with WebhookReceiver() as internal:  # an "internal admin port" the redirect points at
        elsewhere = {"Location": internal.url("/internal/admin?delete=all")}
        receiver.always("/hook/redirecting-token", Answer(302, elsewhere))
        sent = WebhookSender(LOOPBACK)(receiver.url("/hook/redirecting-token"), BODY, 2.0)
        assert not sent.ok and sent.final and sent.status == 302
        assert sent.error == "HTTP 302 Found: a redirect, not followed"
        assert internal.received == []
    assert len(receiver.attempts("/hook/redirecting-token")) == 1


class Rebinding:
    """A DNS server whose answers the test scripts: one answer per lookup, in order, and a count."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_when_sent(receiver: WebhookReceiver) -> None:
    port = receiver.url().split(":")[2].split("/")[0]
    url = f"http://hooks.example.com:{port}/api/webhooks/1/rebinding-token"
    dns = Rebinding(["93.184.216.34"], ["127.0.0.1"])
    assert webhook_problem(url, NOTHING, dns) is None  # public when set
    sent = WebhookSender(NOTHING, dns)(url, BODY, 2.0)  # loopback when sent
    assert not sent.ok and sent.final
    assert sent.error == (
        "refused: hooks.example.com resolves to 127.0.0.1, a loopback address; webhooks reach only public "
        "addresses (OWSTREAM_NOTIFY_ALLOW lists receivers inside)"
    )
    assert receiver.received == []


def test_the_connection_goes_to_the_address_checked_not_to_a_second_lookup(receiver: WebhookReceiver) -> None:
    port = receiver.url().split(":")[2].split("/")[0]
    url = f"http://hooks.example.com:{port}/api/webhooks/1/pinned-token"
    dns = Rebinding(["127.0.0.1"], ["10.9.9.9"])  # a second lookup would answer an address never checked
    sent = WebhookSender(parse_allowed("127.0.0.0/8"), dns)(url, BODY, 2.0)
    assert sent.ok and dns.lookups == ["hooks.example.com"]  # resolved once, at connect time
    (got,) = receiver.delivered()
    assert got.headers["Host"] == f"hooks.example.com:{port}" and got.body == BODY


def test_set_time_checks_say_why_in_one_line_without_the_secret(receiver: WebhookReceiver) -> None:
    url = receiver.url("/api/webhooks/1/the-secret-token")
    with pytest.raises(OwstreamError) as refused:
        checked_webhook(url, Settings())
    line = str(refused.value)
    assert line.startswith("not a webhook URL: 127.0.0.1 is a loopback address") and "\n" not in line
    assert "the-secret-token" not in line
    assert checked_webhook(url, Settings(notify_allow="127.0.0.1")) == url
    metadata = webhook_problem("http://169.254.169.254/latest/meta-data/")
    assert metadata is not None and "169.254.169.254 is a link-local address" in metadata


def test_a_name_that_does_not_resolve_now_is_accepted_and_checked_again_at_send() -> None:
    def nxdomain(host: str, port: int) -> list[str]:
        raise OSError(f"[Errno -2] Name or service not known: {host}")

    url = "https://hooks.example.com/api/webhooks/1/token-abcdef"
    assert webhook_problem(url, NOTHING, nxdomain) is None
    sent = WebhookSender(NOTHING, nxdomain)(url, BODY, 2.0)
    assert not sent.ok and not sent.final  # tried again later, like a webhook that does not answer
    assert sent.error is not None and "does not resolve" in sent.error


def test_resolve_answers_addresses_without_a_network() -> None:
    assert "127.0.0.1" in resolve("localhost", 80)
    assert resolve("[::1]", 80) == ["::1"]


def test_an_https_webhook_is_verified_for_the_urls_host_though_dialled_at_the_address_checked(
    tmp_path: Path,
) -> None:
    ca, keystore = make_certificates(tmp_path)  # a certificate for 127.0.0.1 and localhost, signed by a test CA
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(keystore)
    trusting = ssl.create_default_context(cafile=str(ca))
    with WebhookReceiver() as receiver:
        receiver._server.socket = serving.wrap_socket(receiver._server.socket, server_side=True)
        port = receiver.url().split(":")[2].split("/")[0]
        good = WebhookSender(parse_allowed("localhost"), tls=trusting)(
            f"https://localhost:{port}/hook/tls-token", BODY, 5.0
        )
        assert good.ok, good.error
        dns = Rebinding(["127.0.0.1"])  # another name pointed at the same address: its certificate does not match
        other = WebhookSender(parse_allowed("127.0.0.1"), dns, tls=trusting)(
            f"https://hooks.example.com:{port}/hook/tls-token", BODY, 5.0
        )
        assert not other.ok and other.error is not None and "certificate" in other.error.lower()
        assert len(receiver.delivered()) == 1
