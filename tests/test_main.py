"""The composition root, as a newcomer meets it: ``main.py chat|run`` on embedded defaults."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.dovecot import ImapAccount
from tests.mailbox_support import mail, process_alive

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(tmp_path / "var" / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
    )
    return env


def test_chat_on_defaults_registers_a_demo_customer_and_writes_the_email(tmp_path: Path) -> None:
    env = _env(tmp_path)
    demo = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "demo"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    contract, module, fiscal_code = re.search(
        r"(\d+) / (\d+) / ([A-Z0-9]{16})\s", demo.stdout
    ).groups()  # type: ignore[union-attr]

    answers = f"/registrazione\n{contract}/{module}\n{fiscal_code}\nmario.rossi@example.it\n1\n"
    chat = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "chat"],
        env=env, cwd=tmp_path, input=answers, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert chat.returncode == 0, chat.stderr
    assert "m***@example.it" in chat.stdout
    assert "Traceback" not in chat.stdout + chat.stderr

    [eml] = list((tmp_path / "var" / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "mario.rossi@example.it"
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert re.search(r"^Nome utente: \S+$", body, re.M)
    assert re.search(r"^Password temporanea: \S+$", body, re.M)
    # nothing secret or personal reached the log
    log = (tmp_path / "var" / "areaclienti.log").read_text()
    password = re.search(r"^Password temporanea: (\S+)$", body, re.M).group(1)  # type: ignore[union-attr]
    assert password not in log and "mario.rossi@example.it" not in log and fiscal_code not in log


def test_run_with_demo_starts_on_an_empty_machine_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", "--demo"],
        env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 240
    for line in process.stdout:
        seen.append(line)
        if "Area Clienti" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    try:
        rest, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    assert "Identities to try" in output
    assert "Traceback" not in output
    assert (tmp_path / "var" / "areaclienti.db").exists()


def test_run_with_imap_answers_a_mail_from_the_faq_child_and_leaves_no_process_behind(
    tmp_path: Path, imap_account: ImapAccount
) -> None:
    imap_account.append(mail("Buongiorno, ho perso la password: come faccio a recuperarla?"))
    env = {**_env(tmp_path), **imap_account.env, "IMAP_POLL_SECONDS": "1"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", "--console"],
        env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    outbox = tmp_path / "var" / "outbox"
    try:
        deadline = time.monotonic() + 120
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            assert process.poll() is None
            time.sleep(0.2)
        children = _children(process.pid)
        assert children, "the FAQ matcher runs in a child process"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
    [eml] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Auto-Submitted"] == "auto-replied" and "[AC-" in str(message["Subject"])
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/recupero" in body  # the FAQ's own answer, not an acknowledgement
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == 1
    for _ in range(50):  # the FAQ child ends with the service
        if not any(process_alive(pid) for pid in children):
            break
        time.sleep(0.1)
    assert not any(process_alive(pid) for pid in children)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found
