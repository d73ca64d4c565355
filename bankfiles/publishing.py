"""The PDFs of a publication: take them from the manifest's folder, keep a copy in the data folder.

A manifest's ``file`` is a hostile input (the manifest may come from anywhere), so a PDF is
taken only when it is a regular file inside the manifest's folder:

- an absolute path or a ``..`` step is refused (``file_path``);
- every step is checked with ``lstat`` and opened with ``O_NOFOLLOW`` relative to the folder
  above it, so a symbolic link anywhere below the manifest's folder is refused, and so is a
  FIFO, a socket, a device or a folder (``not_regular_file``); the file is opened with
  ``O_NONBLOCK`` (a FIFO swapped in after the check cannot block the open) and the opened
  descriptor is checked again with ``fstat``;
- a file over ``DOCUMENT_MAX_BYTES`` is refused (``file_too_large``), checked before reading
  and again while copying (a file that grows).

The copy is streamed into an owner-only intake file in the data folder, hashed while copying
(a PDF is never held whole in memory), then renamed to its name: ``documents/<year>/<number>-
<sha>.pdf``, after the document and its content, so a corrected PDF never overwrites the one
customers may be reading until the import commits; superseded copies are kept. Copies made by
an import that is rolled back are removed. Stored copies are 0600 in 0700 folders.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from assistant.private_files import private_folder, private_temporary_file
from assistant.settings import DEFAULT_DOCUMENT_MAX_BYTES
from bankfiles.rows import BadRow

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
DOCUMENTS_DIR = "documents"
COPY_CHUNK_BYTES = 1024 * 1024
INTAKE_PREFIX, INTAKE_SUFFIX = ".incoming-", ".part"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class ReceivedPdf(NamedTuple):
    """A PDF copied into the data folder's intake, not yet filed under its name."""

    sha256: str  # hex
    intake: Path


def open_document(folder: Path, name: str, max_bytes: int) -> int:
    """A read-only descriptor of the regular file ``name`` inside ``folder``; ``BadRow`` if not.

    ``name`` is the manifest's ``file`` (``/``-separated, relative to the manifest's folder).
    """
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BadRow("file_path", f"file is not a path inside the manifest's folder: {name}")
    try:
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        raise BadRow("missing_file", f"file not found: {relative.name}") from None
    try:
        for step in relative.parts[:-1]:
            _check_step(step, directory, name, folder=True)
            inner = _open_step(step, directory, _FOLDER_FLAGS, name)
            os.close(directory)
            directory = inner
        _check_step(relative.name, directory, name, folder=False)
        descriptor = _open_step(relative.name, directory, _FILE_FLAGS, name)
    finally:
        os.close(directory)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):  # swapped after the lstat
            raise BadRow("not_regular_file", f"file is not a regular file: {name}")
        if status.st_size > max_bytes:
            raise _too_large(name, max_bytes)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _check_step(step: str, directory: int, name: str, *, folder: bool) -> None:
    """``lstat`` one step of the path: a folder on the way, or the regular file; never a link."""
    try:
        mode = os.lstat(step, dir_fd=directory).st_mode
    except FileNotFoundError:
        raise BadRow("missing_file", f"file not found: {PurePosixPath(name).name}") from None
    except OSError:
        raise BadRow("missing_file", f"file cannot be read: {PurePosixPath(name).name}") from None
    if stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode):
        return
    if folder and stat.S_ISREG(mode):  # "a.pdf/b.pdf"
        raise BadRow("missing_file", f"file not found: {PurePosixPath(name).name}")
    kind = next((kind for test, kind in _KINDS if test(mode)), "not a regular file")
    what = "a folder on the path" if folder else "file"
    raise BadRow("not_regular_file", f"{what} is {kind}: {name}")


def _open_step(step: str, directory: int, flags: int, name: str) -> int:
    try:
        return os.open(step, flags, dir_fd=directory)
    except FileNotFoundError:
        raise BadRow("missing_file", f"file not found: {PurePosixPath(name).name}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link swapped in after the lstat
            raise BadRow("not_regular_file", f"a step is a symbolic link: {name}") from None
        raise BadRow("missing_file", f"file cannot be read: {PurePosixPath(name).name}") from None


def _too_large(name: str, max_bytes: int) -> BadRow:
    return BadRow(
        "file_too_large", f"file is larger than {max_bytes:,} bytes (DOCUMENT_MAX_BYTES): {name}"
    )


def pdf_relpath(number: str, issue_date: str, sha256: str) -> str:
    """Where a document's PDF is kept, relative to the data folder."""
    safe = _UNSAFE.sub("_", number).strip("._") or "document"
    return f"{DOCUMENTS_DIR}/{issue_date[:4]}/{safe}-{sha256[:16]}.pdf"


class PdfShelf:
    """Keeps PDF copies in the data folder; remembers the new ones until the import commits."""

    def __init__(self, data_dir: Path, *, max_bytes: int = DEFAULT_DOCUMENT_MAX_BYTES) -> None:
        self.data_dir = data_dir
        self.max_bytes = max_bytes
        self.created: list[Path] = []
        self.folders: set[Path] = set()
        self._buffer = memoryview(bytearray(COPY_CHUNK_BYTES))  # one copy buffer, reused

    def receive(self, folder: Path, name: str) -> ReceivedPdf:
        """Copy the PDF ``name`` of the manifest in ``folder`` into the intake, hashing it.

        ``BadRow`` when the file is refused (see the module doc) or is not a PDF.
        """
        view = self._buffer
        with open(open_document(folder, name, self.max_bytes), "rb", buffering=0) as source:
            size = source.readinto(view)
            if bytes(view[: min(size, len(PDF_MAGIC))]) != PDF_MAGIC:
                raise BadRow("not_pdf", f"file is not a PDF: {PurePosixPath(name).name}")
            descriptor, intake = private_temporary_file(
                self.data_dir / DOCUMENTS_DIR, INTAKE_PREFIX, INTAKE_SUFFIX
            )
            try:
                with open(descriptor, "wb") as copy:
                    digest, total = hashlib.sha256(), 0
                    while size:
                        total += size
                        if total > self.max_bytes:  # it grew since the check
                            raise _too_large(name, self.max_bytes)
                        digest.update(view[:size])
                        copy.write(view[:size])
                        size = source.readinto(view)
            except BaseException:
                intake.unlink(missing_ok=True)
                raise
        return ReceivedPdf(digest.hexdigest(), intake)

    def has(self, relpath: str | None) -> bool:
        """Whether a stored copy exists."""
        return bool(relpath) and (self.data_dir / str(relpath)).is_file()

    def place(self, pdf: ReceivedPdf, relpath: str) -> None:
        """File a received PDF under ``relpath`` (dropped if that copy exists: same content)."""
        target = self.data_dir / relpath
        if target.is_file():
            self.drop(pdf)
            return
        if target.parent not in self.folders:
            private_folder(target.parent)
            self.folders.add(target.parent)
        os.replace(pdf.intake, target)
        self.created.append(target)

    def drop(self, pdf: ReceivedPdf) -> None:
        """Forget a received PDF that is not needed (the same copy is stored already)."""
        with contextlib.suppress(FileNotFoundError):
            pdf.intake.unlink()

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
