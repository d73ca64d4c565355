"""The IMAP wrapper against Dovecot: UID-safe moves, capabilities after login, TLS, STARTTLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from mailbox.inbound.imap import ImapMailbox, ImapUnavailable
from mailbox.inbound.imap_wire import uid_set
from tests.fixtures.dovecot import HOST, DovecotServer, ImapAccount
from tests.mailbox_support import mail


def connect(account: ImapAccount, **overrides: object) -> ImapMailbox:
    """A connected wrapper for the account (plain IMAP unless told)."""
    options: dict[str, object] = {
        "host": HOST,
        "port": account.server.port,
        "security": "none",
        "username": account.username,
        "password": account.password,
        "timeout": 5.0,
        **overrides,
    }
    box = ImapMailbox(**options)  # type: ignore[arg-type]
    box.connect()
    return box


@pytest.fixture
def box(imap_account: ImapAccount) -> Iterator[ImapMailbox]:
    """A connected wrapper with INBOX selected."""
    opened = connect(imap_account)
    opened.select("INBOX")
    yield opened
    opened.close()


def test_capabilities_are_read_again_after_login(box: ImapMailbox) -> None:
    assert {"MOVE", "UIDPLUS", "IDLE"} <= box.capabilities  # Dovecot lists MOVE only after login


@pytest.mark.parametrize("server_has_move", [True, False])
def test_archiving_never_expunges_other_deleted_messages(
    server_has_move: bool, box: ImapMailbox, imap_account: ImapAccount
) -> None:
    imap_account.append_many([mail("mine"), mail("someone else's, marked deleted")])
    first, second = box.uids()
    box.client.uid("STORE", str(second), "+FLAGS", r"(\Deleted)")  # another client's business
    if not server_has_move:
        box.capabilities = box.capabilities - {"MOVE"}  # the copy + UID EXPUNGE path
    box.ensure_folder("Processed")

    box.archive([first], "Processed")

    with imap_account.connection() as client:
        client.select("INBOX", readonly=True)
        _, data = client.uid("SEARCH", "ALL")
        assert data[0].split() == [str(second).encode()]  # still there, still flagged
    assert imap_account.seen("Processed") == imap_account.uids("Processed") != []


def test_messages_over_the_limit_are_fetched_header_only(
    box: ImapMailbox, imap_account: ImapAccount
) -> None:
    imap_account.append(mail("big", attachment=b"x" * 50_000))
    [uid] = box.uids()
    assert box.sizes([uid])[uid] > 50_000
    [fetched] = box.fetch([uid], header_only=True)
    assert fetched.header_only and b"Subject:" in fetched.raw and len(fetched.raw) < 2_000
    assert imap_account.seen("INBOX") == []  # fetching never marks seen


def test_idle_reports_new_mail(box: ImapMailbox, imap_account: ImapAccount) -> None:
    import threading

    timer = threading.Timer(0.2, imap_account.append, [mail("arrives during IDLE")])
    timer.start()
    try:
        assert box.wait(10) is True
    finally:
        timer.join()
    assert len(box.uids()) == 1


def test_wrong_password_is_unavailable_not_a_crash(imap_account: ImapAccount) -> None:
    with pytest.raises(ImapUnavailable):
        connect(imap_account, password="wrong")


def test_a_silent_server_times_out() -> None:
    import socket

    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen()
        box = ImapMailbox(
            host=HOST, port=silent.getsockname()[1], security="none", username="u",
            password="p", timeout=0.3,
        )  # fmt: skip
        with pytest.raises(ImapUnavailable):
            box.connect()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls(security: str, dovecot: DovecotServer, imap_account: ImapAccount) -> None:
    if dovecot.cafile is None:
        pytest.skip("openssl is not installed: the test server has no certificate")
    context = ssl.create_default_context(cafile=str(dovecot.cafile))
    port = dovecot.tls_port if security == "tls" else dovecot.port
    box = connect(imap_account, security=security, port=port, ssl_context=context)
    try:
        assert box.select("INBOX") > 0
    finally:
        box.close()


def test_tls_refuses_an_untrusted_certificate(
    dovecot: DovecotServer, imap_account: ImapAccount
) -> None:
    if dovecot.cafile is None:
        pytest.skip("openssl is not installed: the test server has no certificate")
    with pytest.raises(ImapUnavailable):
        connect(imap_account, security="tls", port=dovecot.tls_port)


def test_uid_sets_are_compact() -> None:
    assert uid_set([7, 1, 2, 3, 4, 9, 10]) == "1:4,7,9:10"
    assert uid_set([5]) == "5"


def test_mailbox_settings_defaults_and_errors() -> None:
    from assistant.errors import SettingsError
    from assistant.settings import Settings

    defaults = Settings.from_environ({})
    assert defaults.imap_quarantine_folder == "Quarantine"
    assert (defaults.imap_poll_seconds, defaults.imap_timeout_seconds) == (60, 30)
    for name, value in (("IMAP_POLL_SECONDS", "0"), ("IMAP_TIMEOUT_SECONDS", "soon")):
        with pytest.raises(SettingsError) as error:
            Settings.from_environ({name: value})
        assert error.value.variable == name
