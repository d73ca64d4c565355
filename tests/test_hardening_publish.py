"""``publish MANIFEST`` with hostile or odd files (issue 14, points 2, 4 and 5).

A manifest's ``file`` is resolved inside the manifest's folder only; symbolic links, FIFOs,
folders and files over ``DOCUMENT_MAX_BYTES`` are bad rows with a reason; the copy is streamed;
stored copies and their folders are owner-only whatever the umask.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import DEFAULT_DOCUMENT_MAX_BYTES, Settings
from bankfiles.importer import import_file, publish_file
from store.store import Store
from tests.fixtures.area_data import pdf_bytes

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_HEADER = "document_number,contract_number,document_type,issue_date,amount,file"
GOOD_ROW = "2024/0001,1000001/01,invoice,2024-01-15,450.00,pdf/a.pdf"


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    """A bank file: the header, then one line per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def bank_files(folder: Path) -> tuple[Path, Path]:
    """One customer with one contract, as the bank's two files."""
    customers = write_csv(
        folder / "customers.csv",
        "customer_code,kind,name,fiscal_code",
        ["C1,person,Mario Rossi,RSSMRA85T10A562S"],
    )
    contracts = write_csv(
        folder / "contracts.csv",
        "contract_number,module_number,customer_code,status,description,start_date,end_date,"
        "periodic_fee",
        ["1000001,01,C1,active,Fiat Panda,2020-01-01,,450.00"],
    )
    return customers, contracts


@pytest.fixture
async def bank(store: Store, tmp_path: Path, clock: ManualClock) -> Path:
    """The bank's folder: a customer and a contract imported, one good PDF at ``pdf/a.pdf``."""
    folder = tmp_path / "bank"
    for what, path in zip(("customers", "contracts"), bank_files(folder), strict=True):
        assert (await import_file(store, what, path, now=clock.now())).written
    (folder / "pdf").mkdir()
    (folder / "pdf" / "a.pdf").write_bytes(pdf_bytes("a"))
    return folder


def row(number: int, file: str) -> str:
    """A manifest row for contract 1000001/01 naming ``file``."""
    return f"2024/{number:04d},1000001/01,invoice,2024-01-15,450.00,{file}"


async def publish_rows(
    store: Store,
    settings: Settings,
    bank: Path,
    clock: ManualClock,
    files: list[str],
    max_bytes: int = DEFAULT_DOCUMENT_MAX_BYTES,
) -> list[tuple[int, str]]:
    """Publish one row per file after a good first row; the bad rows as (line, reason)."""
    manifest = write_csv(
        bank / "manifest.csv",
        MANIFEST_HEADER,
        [GOOD_ROW, *(row(n, f) for n, f in enumerate(files, start=2))],
    )
    report = await publish_file(
        store, manifest, settings.data_dir, now=clock.now(), max_bytes=max_bytes
    )
    assert not report.written
    assert await store.documents.by_number("2024/0001") is None
    assert not list((settings.data_dir / "documents").rglob("*.pdf"))
    return [(bad.line, bad.reason) for bad in report.bad]


async def test_a_path_outside_the_manifests_folder_is_a_bad_row(
    store: Store, settings: Settings, bank: Path, clock: ManualClock, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "secret.pdf"
    outside.parent.mkdir()
    outside.write_bytes(pdf_bytes("not for customers"))
    bad = await publish_rows(
        store,
        settings,
        bank,
        clock,
        [str(outside), "../elsewhere/secret.pdf", "pdf/../../elsewhere/secret.pdf"],
    )
    assert bad == [(3, "file_path"), (4, "file_path"), (5, "file_path")]


async def test_symbolic_links_are_refused_wherever_they_point(
    store: Store, settings: Settings, bank: Path, clock: ManualClock, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(pdf_bytes("not for customers"))
    (bank / "pdf" / "outside.pdf").symlink_to(outside / "secret.pdf")
    (bank / "pdf" / "inside.pdf").symlink_to(bank / "pdf" / "a.pdf")
    (bank / "linked").symlink_to(outside, target_is_directory=True)
    bad = await publish_rows(
        store, settings, bank, clock, ["pdf/outside.pdf", "pdf/inside.pdf", "linked/secret.pdf"]
    )
    assert bad == [(3, "not_regular_file"), (4, "not_regular_file"), (5, "not_regular_file")]


async def test_a_fifo_a_folder_and_a_missing_file_are_bad_rows(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    os.mkfifo(bank / "pdf" / "pipe.pdf")
    (bank / "pdf" / "folder.pdf").mkdir()
    bad = await publish_rows(
        store, settings, bank, clock, ["pdf/pipe.pdf", "pdf/folder.pdf", "pdf/none.pdf"]
    )
    assert bad == [(3, "not_regular_file"), (4, "not_regular_file"), (5, "missing_file")]


async def test_a_file_over_the_size_cap_is_a_bad_row(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    big = bank / "pdf" / "big.pdf"
    with big.open("wb") as out:  # a sparse "PDF" just over the default cap of 20 MiB
        out.write(b"%PDF-1.4\n")
        out.truncate(20 * 1024 * 1024 + 1)
    small = bank / "pdf" / "small.pdf"
    small.write_bytes(pdf_bytes("small"))
    bad = await publish_rows(store, settings, bank, clock, ["pdf/big.pdf"])
    assert bad == [(3, "file_too_large")]
    cap = small.stat().st_size - 1
    bad = await publish_rows(store, settings, bank, clock, ["pdf/small.pdf"], max_bytes=cap)
    assert bad[-1] == (3, "file_too_large")


async def test_skip_invalid_publishes_the_good_rows_beside_a_refused_file(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    (bank / "pdf" / "link.pdf").symlink_to(bank / "pdf" / "a.pdf")
    manifest = write_csv(bank / "manifest.csv", MANIFEST_HEADER, [GOOD_ROW, row(2, "pdf/link.pdf")])
    report = await publish_file(
        store, manifest, settings.data_dir, now=clock.now(), skip_invalid=True
    )
    assert report.written and [(b.line, b.reason) for b in report.bad] == [(3, "not_regular_file")]
    assert "symbolic link" in report.bad[0].detail
    assert await store.documents.by_number("2024/0001") is not None
    assert await store.documents.by_number("2024/0002") is None


async def test_the_copy_is_streamed_not_read_whole_into_memory(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    large = bank / "pdf" / "large.pdf"
    with large.open("wb") as out:  # 16 MiB under the cap
        out.write(pdf_bytes("large"))
        out.write(b"\n%" + b"x" * (16 * 1024 * 1024))
    manifest = write_csv(bank / "manifest.csv", MANIFEST_HEADER, [row(1, "pdf/large.pdf")])
    tracemalloc.start()
    try:
        report = await publish_file(store, manifest, settings.data_dir, now=clock.now())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.written and not report.bad
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes for a 16 MiB file"
    document = await store.documents.by_number("2024/0001")
    assert document is not None and document.pdf_path is not None
    assert (settings.data_dir / document.pdf_path).read_bytes() == large.read_bytes()
    assert not list((settings.data_dir / "documents").rglob("*.part"))


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process's umask for the test (restored after)."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


async def test_stored_pdfs_and_their_folders_are_owner_only(
    store: Store, settings: Settings, bank: Path, clock: ManualClock, umask: int
) -> None:
    manifest = write_csv(bank / "manifest.csv", MANIFEST_HEADER, [GOOD_ROW])
    report = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert report.written and report.pdfs_stored == 1
    [copy] = (settings.data_dir / "documents").rglob("*.pdf")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    folder = copy.parent
    while folder != settings.data_dir.parent:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        folder = folder.parent


def main_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of ``main.py`` with every file under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(tmp_path / "var" / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
        **extra,
    )
    return env


def main_publish(tmp_path: Path, file: str, env: dict[str, str]) -> tuple[int, str]:
    """``main.py import`` the bank's files, then ``main.py publish`` a one-row manifest naming
    ``file``; its exit status and output (stdout and stderr)."""
    main = [sys.executable, str(ROOT / "main.py")]
    bank = tmp_path / "bank"
    for what, path in zip(("customers", "contracts"), bank_files(bank), strict=True):
        done = subprocess.run(
            [*main, "import", what, str(path)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    manifest = write_csv(bank / "manifest.csv", MANIFEST_HEADER, [row(1, file)])
    process = subprocess.Popen(
        [*main, "publish", str(manifest)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("publish hung")
    return process.returncode, out + err


def test_publish_with_a_fifo_as_file_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "bank").mkdir()
    os.mkfifo(tmp_path / "bank" / "pipe.pdf")
    status, output = main_publish(tmp_path, "pipe.pdf", main_env(tmp_path))
    assert status == 1, output
    assert "line 2: file is a FIFO: pipe.pdf [not_regular_file]" in output
    assert "Traceback" not in output


def test_publish_applies_document_max_bytes_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "a.pdf").write_bytes(pdf_bytes("a") + b"%" * 2048)
    status, output = main_publish(tmp_path, "a.pdf", main_env(tmp_path, DOCUMENT_MAX_BYTES="2048"))
    assert status == 1, output
    assert "line 2: file is larger than 2,048 bytes (DOCUMENT_MAX_BYTES): a.pdf" in output
