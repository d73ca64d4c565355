"""``python main.py faq`` as staff and scripts use it: a real process, arguments or a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The process environment: database and data under a temporary folder (shared, so the
    example vectors cached by the first run serve the others)."""
    folder = tmp_path_factory.mktemp("faq-cli")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AREACLIENTI_", "TELEGRAM_", "SMTP_", "IMAP_", "MAIL_", "OUTBOX_"))
    }
    env["AREACLIENTI_DB"] = str(folder / "areaclienti.db")
    env["AREACLIENTI_DATA_DIR"] = str(folder / "data")
    env["OUTBOX_DIR"] = str(folder / "outbox")
    return env


def run_faq(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run ``main.py faq`` and return its standard output."""
    done = subprocess.run(
        [sys.executable, "main.py", "faq", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_json_lines_for_questions_given_as_arguments(environment: dict[str, str]) -> None:
    output = run_faq(
        environment, "--json", "ho perso la password", "vorrei un mutuo per la casa", "ciao"
    )
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["question"] for line in lines] == [
        "ho perso la password",
        "vorrei un mutuo per la casa",
        "ciao",
    ]
    assert lines[0]["id"] == "credenziali-smarrite"
    assert lines[1]["id"] is None
    assert lines[2]["id"] is None
    for line in lines:
        assert set(line) == {"question", "id", "score", "suggestions"}
        assert isinstance(line["score"], float)
        assert len(line["suggestions"]) <= 3


def test_questions_piped_one_per_line(environment: dict[str, str]) -> None:
    questions = [
        "how do I change my email",
        "",
        "quali fatture posso vedere?",
        "problema con la password",
    ]
    output = run_faq(environment, "--json", stdin="\n".join(questions) + "\n")
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["id"] for line in lines] == ["modifica-email", "fatture-visualizzabili", None]
    assert "credenziali-smarrite" in lines[2]["suggestions"]


def test_plain_output_is_the_reply_in_the_forced_language(environment: dict[str, str]) -> None:
    output = run_faq(environment, "--lang", "en", "non ho ricevuto la password")
    assert "/register" in output
    assert "60 minutes" in output
    assert "{" not in output
