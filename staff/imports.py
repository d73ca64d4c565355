"""``python main.py import customers|contracts FILE`` and ``publish MANIFEST``: the bank's files.

The runners apply a file through ``bankfiles`` and print its report; ``main.py`` hands them the
open store. Exit statuses are ``bankfiles.importer``'s (0 applied, 1 bad rows, 2 unusable,
3 applied with --skip-invalid and some bad rows).
"""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.clock import Clock
from bankfiles.importer import import_file, print_report, publish_file
from store.store import Store


async def run_import(
    store: Store, what: str, path: Path, *, skip_invalid: bool, clock: Clock
) -> int:
    """Apply a customers or contracts file; print the report; return the exit status."""
    report = await import_file(
        store,
        what,
        path,
        skip_invalid=skip_invalid,
        now=clock.now(),
        progress=sys.stderr.isatty(),
    )
    return print_report(report, skip_invalid=skip_invalid)


async def run_publish(
    store: Store,
    manifest: Path,
    data_dir: Path,
    *,
    skip_invalid: bool,
    max_bytes: int,
    clock: Clock,
) -> int:
    """Publish the documents of a manifest; print the report; return the exit status."""
    report = await publish_file(
        store,
        manifest,
        data_dir,
        skip_invalid=skip_invalid,
        max_bytes=max_bytes,
        now=clock.now(),
        progress=sys.stderr.isatty(),
    )
    return print_report(report, skip_invalid=skip_invalid)
