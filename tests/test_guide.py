"""The operating guide the customer receives with /guida: a real PDF in both languages."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from assistant.guide import build_guide_pdf, guide_pdf_path, latin1
from assistant.settings import Settings
from assistant.texts import Texts

COMMANDS = {
    "it": [
        "/start", "/menu", "/registrazione (/register)", "/accedi (/login)",
        "/recupero (/recover)", "/contratti (/contracts)", "/fatture (/invoices)",
        "/comunicazioni (/messages)", "/profilo (/profile)", "/assistenza (/support)",
        "/guida (/guide)", "/contatti (/contacts)", "/esci (/logout)", "/annulla (/cancel)",
    ],
    "en": [
        "/start", "/menu", "/register (/registrazione)", "/login (/accedi)",
        "/recover (/recupero)", "/contracts (/contratti)", "/invoices (/fatture)",
        "/messages (/comunicazioni)", "/profile (/profilo)", "/support (/assistenza)",
        "/guide (/guida)", "/contacts (/contatti)", "/logout (/esci)", "/cancel (/annulla)",
    ],
}  # fmt: skip


def pdf_text(data: bytes) -> str:
    """All the text pypdf extracts, lines joined by spaces."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def custom(tmp_path: Path) -> Settings:
    """Settings with values the guide must repeat."""
    return Settings.from_environ(
        {
            "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
            "SUPPORT_ADDRESS": "aiuto@leasing.example",
            "REGISTRATION_RETRY_MINUTES": "45",
            "MAX_LOGIN_ATTEMPTS": "4",
        }
    )


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_guide_explains_every_command_and_the_rules(custom: Settings, lang: str) -> None:
    data = build_guide_pdf(Texts(custom.templates_dir), custom, lang)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for command in COMMANDS[lang]:
        assert command in text, command
    assert "aiuto@leasing.example" in text
    assert "PEC" in text
    assert "2008" in text
    if lang == "it":
        assert "45 minuti" in text
        assert "Dopo 4 tentativi di accesso errati" in text
        assert "fiscalmente valido" in text and "cartacea" in text
        assert "società" in text  # accented letters survive the core font
    else:
        assert "45 minutes" in text
        assert "After 4 wrong login attempts" in text
        assert "valid for tax purposes" in text


def test_the_pdf_is_built_once_and_rebuilt_when_its_content_changes(
    settings: Settings, custom: Settings
) -> None:
    texts = Texts(settings.templates_dir)
    first = guide_pdf_path(texts, settings, "it")
    assert first.is_relative_to(settings.data_dir / "guide")
    assert first.name == "guida-operativa.pdf"
    built_at = first.stat().st_mtime_ns
    assert guide_pdf_path(texts, settings, "it") == first
    assert first.stat().st_mtime_ns == built_at
    assert guide_pdf_path(texts, settings, "en").name == "operating-guide.pdf"
    changed = guide_pdf_path(texts, custom, "it")
    assert changed != first
    assert "aiuto@leasing.example" in pdf_text(changed.read_bytes())


def test_characters_outside_latin1_never_break_the_build(tmp_path: Path) -> None:
    assert latin1("Canone: 100 € – “ok” … 😀 città") == 'Canone: 100 EUR - "ok" ...  città'
    for section in ("cover", "commands", "rules", "contacts"):
        folder = tmp_path / "it" / "guide"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{section}.j2").write_text(
            f"# {section} €\n- spesa 5 € 😀 ☎️ {{{{ support_address }}}}\n"
        )
    settings = Settings.from_environ({})
    text = pdf_text(build_guide_pdf(Texts(tmp_path), settings, "it"))
    assert "spesa 5 EUR" in text
    assert settings.support_address in text
