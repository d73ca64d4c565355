"""Owner-only files and folders (0600 and 0700), whatever the process's umask.

What the service keeps at rest beside its database (the log, the published PDFs, the ``.eml``
files of the file transport, and the folders that hold them) is created through these helpers,
which set the mode explicitly after creating, so a umask of 000 or 022 changes nothing. Folders
and files that already exist are the operator's: they are used as they are (the log excepted,
see ``private_log_file``). A leaf module (standard library only): every package may import it
but ``store/``, which imports no project package.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` and its missing parents as owner-only folders; return ``path``.

    An existing folder is left as it is; an existing file in the way raises
    ``NotADirectoryError``.
    """
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileNotFoundError:
        private_folder(path.parent)
        return private_folder(path)
    except FileExistsError:
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path)) from None
        return path
    os.chmod(path, FOLDER_MODE)
    return path


def private_temporary_file(folder: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """A new owner-only file in ``folder`` (created if missing): its descriptor and path."""
    private_folder(folder)
    descriptor, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    try:
        os.fchmod(descriptor, FILE_MODE)
    except BaseException:
        os.close(descriptor)
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return descriptor, Path(name)


def private_log_file(path: Path) -> Path:
    """Create the log file (and its folders) owner-only, or make an existing one so.

    The log is the service's own file even when it exists already (a run before this
    version left it readable to all): its mode is tightened to 0600 when we own it.
    """
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        if os.fstat(descriptor).st_uid == os.geteuid():
            os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path
