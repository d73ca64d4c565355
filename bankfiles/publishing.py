"""The PDFs of a publication: check them, and keep a copy in the data folder.

A copy is named after the document and its content (``documents/<year>/<number>-<sha>.pdf``),
so a corrected PDF never overwrites the one customers may be reading until the import commits;
superseded copies are kept. Copies made by an import that is rolled back are removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import NamedTuple

from bankfiles.rows import BadRow

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
DOCUMENTS_DIR = "documents"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PdfFile(NamedTuple):
    sha256: str  # hex
    content: bytes


def read_pdf(path: Path) -> PdfFile:
    """A PDF file's content and sha256; ``BadRow`` when it is missing or not a PDF."""
    try:
        content = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise BadRow("missing_file", f"file not found: {path.name}") from None
    except PermissionError:
        raise BadRow("missing_file", f"file cannot be read: {path.name}") from None
    if not content.startswith(PDF_MAGIC):
        raise BadRow("not_pdf", f"file is not a PDF: {path.name}")
    return PdfFile(hashlib.sha256(content).hexdigest(), content)


def pdf_relpath(number: str, issue_date: str, sha256: str) -> str:
    """Where a document's PDF is kept, relative to the data folder."""
    safe = _UNSAFE.sub("_", number).strip("._") or "document"
    return f"{DOCUMENTS_DIR}/{issue_date[:4]}/{safe}-{sha256[:16]}.pdf"


class PdfShelf:
    """Keeps PDF copies in the data folder; remembers the new ones until the import commits."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.created: list[Path] = []
        self.folders: set[Path] = set()

    def has(self, relpath: str | None) -> bool:
        """Whether a stored copy exists."""
        return bool(relpath) and (self.data_dir / str(relpath)).is_file()

    def place(self, content: bytes, relpath: str) -> None:
        """Write ``content`` to ``relpath`` unless that copy exists (same name, same content)."""
        target = self.data_dir / relpath
        if target.is_file():
            return
        if target.parent not in self.folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(content)
        os.replace(partial, target)
        self.created.append(target)

    def forget(self) -> None:
        """The import committed: the new copies are now referenced by the store."""
        self.created.clear()

    def discard(self) -> None:
        """The import was rolled back: remove the copies it made."""
        for path in self.created:
            path.unlink(missing_ok=True)
        if self.created:
            logger.info("removed %d PDF copies of a rolled-back publication", len(self.created))
        self.created.clear()
