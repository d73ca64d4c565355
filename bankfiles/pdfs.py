"""One-page PDFs of demo invoices and credit notes (fpdf2, core fonts: nothing to embed).

The bytes depend only on the document's data (fixed creation date), so rendering the same
document twice gives the same file and a second ``demo`` run publishes nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fpdf import FPDF

logger = logging.getLogger(__name__)

TITLES = {"invoice": "FATTURA", "credit_note": "NOTA DI CREDITO"}
VAT_RATE = 22  # percent, included in the amount


@dataclass(frozen=True)
class PdfDocument:
    """What the PDF shows."""

    kind: str  # invoice | credit_note
    number: str
    issue_date: date
    customer_name: str
    customer_code: str
    fiscal_code: str
    contract_label: str  # contract/module
    asset: str  # the leased asset
    period: str  # e.g. "canone 03/2024"
    amount_cents: int  # VAT included, positive


def euro(cents: int) -> str:
    """Italian amount: 1.234,56 EUR."""
    whole, part = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole:,}".replace(",", ".") + f",{part:02d} EUR"


def render(document: PdfDocument) -> bytes:
    """The PDF of one document."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(datetime.combine(document.issue_date, datetime.min.time(), UTC))
    pdf.set_title(f"{TITLES[document.kind].title()} {document.number}")
    pdf.set_author("Banco BPM - Divisione Leasing (demo)")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(20, 22, "Banco BPM - Divisione Leasing")
    pdf.set_font("Helvetica", "", 8)
    pdf.text(20, 27, "Documento dimostrativo: dati di fantasia")
    pdf.set_font("Helvetica", "B", 18)
    pdf.text(20, 45, TITLES[document.kind])
    pdf.set_font("Helvetica", "", 10)
    pdf.text(130, 40, f"Numero: {document.number}")
    pdf.text(130, 46, f"Data: {document.issue_date:%d/%m/%Y}")
    pdf.line(20, 52, 190, 52)
    rows = (
        ("Cliente", f"{document.customer_name} (cod. {document.customer_code})"),
        ("Codice fiscale / P. IVA", document.fiscal_code),
        ("Contratto / Modulo", document.contract_label),
        ("Bene in leasing", document.asset),
        ("Causale", document.period),
    )
    y = 62
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.text(20, y, label)
        pdf.set_font("Helvetica", "", 10)
        pdf.text(75, y, value[:70])
        y += 8
    taxable = round(document.amount_cents * 100 / (100 + VAT_RATE))
    pdf.line(20, y, 190, y)
    y += 10
    sign = -1 if document.kind == "credit_note" else 1
    for label, cents in (
        ("Imponibile", taxable),
        (f"IVA {VAT_RATE}%", document.amount_cents - taxable),
        ("Totale documento", document.amount_cents),
    ):
        pdf.set_font("Helvetica", "B" if label.startswith("Totale") else "", 11)
        pdf.text(110, y, label)
        pdf.text(155, y, euro(sign * cents))
        y += 8
    return bytes(pdf.output())
