"""A year's PDFs in one ZIP file (or in a few parts): what goes where, and writing it.

``write_parts`` writes the entries in order, one by one, each PDF copied in chunks (``zipfile``
streams it), into owner-only temporary files under the data folder: a year of PDFs is never held
in memory. An entry goes into the current part only while the part's bytes so far plus the
entry's bound (``entry_bound``, pure: its headers and the worst deflate can do to its bytes)
stay within the limit, so no part ever exceeds it, whatever the PDFs compress to; otherwise a
new part begins. The files are the caller's to remove once sent (``discard``); a part left
behind by a process that died mid-turn is removed by a later ``write_parts`` (``sweep_stale``).

Also here, because the chat's PDFs and the bundles' entries must be named by one rule:
``pdf_filename`` (a document number made safe for a file name).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.private_files import private_temporary_file

logger = logging.getLogger(__name__)

TELEGRAM_UPLOAD_BYTES = 50_000_000  # Telegram's bot upload limit (50 MB): no part is larger
BUNDLES_DIR = Path("tmp") / "bundles"  # under the data folder; nothing stays there after sending
PART_PREFIX = "bundle-"
PART_SUFFIX = ".zip"
STALE_AFTER_SECONDS = 3600  # a part this old was left by a turn that never finished
ZIP_END_BYTES = 22  # the end-of-central-directory record
CENTRAL_ENTRY_BYTES = 46  # one entry's record in the central directory, without its name
ENTRY_HEADERS_BYTES = 30 + CENTRAL_ENTRY_BYTES + 64  # local header, central record, slack
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def pdf_filename(number: str) -> str:
    """The document number made safe for a file name: ``2024/000123`` → ``2024-000123.pdf``."""
    return f"{safe_file_stem(number, 'documento')}.pdf"


def safe_file_stem(text: str, fallback: str) -> str:
    """``text`` with anything but letters, digits, ``.``, ``_`` and ``-`` made a ``-``."""
    safe = _UNSAFE_FILE_CHARS.sub("-", text).strip("-.") or fallback
    return safe[:100]


@dataclass(frozen=True)
class BundleEntry:
    """One PDF of the bundle: its name inside the ZIP, where it is, its size and digest."""

    name: str  # e.g. "2023-000123.pdf": unique within the bundle
    path: Path
    size: int
    sha256: str  # as published: the bundle's cache key changes when a document does


@dataclass(frozen=True)
class BundlePart:
    """One ZIP file to send: its entries, its place among the parts, and its file name."""

    entries: tuple[BundleEntry, ...]
    index: int  # 1-based
    count: int
    filename: str

    @property
    def cache_key(self) -> str:
        """The key Telegram's file_id of this part is kept under: it names the file name and
        every entry's name and SHA-256, so a changed, added or removed document changes it."""
        digest = hashlib.sha256(self.filename.encode())
        for entry in self.entries:
            digest.update(f"\n{entry.name}\t{entry.sha256}".encode())
        return f"bundle:{digest.hexdigest()}"


def unique_names(names: Iterable[str]) -> list[str]:
    """The names with a ``-2``, ``-3`` … before the extension of a repeated one (two numbers
    that differ only in characters a file name cannot hold must not overwrite each other)."""
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem}-{n}{dot}{extension}"
        seen.add(candidate.lower())
        unique.append(candidate)
    return unique


def entry_bound(entry: BundleEntry) -> int:
    """The most bytes ``entry`` can add to a ZIP: its headers (the name twice) and the worst
    case of deflate (zlib's ``deflateBound``) over its bytes."""
    n = entry.size
    deflated = n + (n >> 12) + (n >> 14) + (n >> 25) + 13
    return ENTRY_HEADERS_BYTES + 2 * len(entry.name.encode()) + deflated


def part_max_bytes(document_max_bytes: int) -> int:
    """The largest part: the product's own document limit, never over Telegram's."""
    return min(document_max_bytes, TELEGRAM_UPLOAD_BYTES)


def write_parts(
    entries: Sequence[BundleEntry], data_dir: Path, max_bytes: int
) -> list[tuple[tuple[BundleEntry, ...], Path]]:
    """The entries, in order, written into as few ZIP files of at most ``max_bytes`` as they
    fit in: each part's entries and its owner-only temporary file.

    Blocking (run it in a thread). On any failure the files made so far are removed and the
    error raised: nothing is left behind.
    """
    folder = data_dir / BUNDLES_DIR
    sweep_stale(folder)
    made: list[Path] = []
    parts: list[tuple[tuple[BundleEntry, ...], Path]] = []
    remaining = list(entries)
    try:
        while remaining:
            descriptor, path = private_temporary_file(folder, PART_PREFIX, PART_SUFFIX)
            made.append(path)
            with open(descriptor, "w+b") as handle:
                taken = write_zip(remaining, handle, max_bytes)
            parts.append((tuple(remaining[:taken]), path))
            remaining = remaining[taken:]
    except BaseException:
        discard(made)
        raise
    return parts


def write_zip(entries: Sequence[BundleEntry], handle: IO[bytes], max_bytes: int) -> int:
    """A ZIP of the first entries into ``handle`` (a seekable binary file), one by one, while
    the next one's bound still fits in ``max_bytes``; how many were written (at least one: an
    entry too large for any part gets one of its own, and cannot be sent anyway — ``publish``
    refuses PDFs over ``DOCUMENT_MAX_BYTES``)."""
    directory = ZIP_END_BYTES  # the central directory written at the end, so far
    with zipfile.ZipFile(
        handle, "w", compression=zipfile.ZIP_DEFLATED, strict_timestamps=False
    ) as archive:
        for count, entry in enumerate(entries):
            if count and handle.tell() + directory + entry_bound(entry) > max_bytes:
                return count
            archive.write(entry.path, arcname=entry.name)  # copied in chunks
            directory += CENTRAL_ENTRY_BYTES + len(entry.name.encode())
    return len(entries)


def discard(paths: Iterable[Path]) -> None:
    """Remove these files (one already gone is fine)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep_stale(folder: Path, older_than: float = STALE_AFTER_SECONDS) -> None:
    """Remove parts older than ``older_than`` seconds: left by a process that died mid-turn."""
    if not folder.is_dir():
        return
    cutoff = time.time() - older_than
    for path in folder.glob(f"{PART_PREFIX}*{PART_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                logger.warning("removed a bundle left behind: %s", path.name)
