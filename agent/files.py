"""Files only their owner can read: folders 0700, files 0600, replaced atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Make `path` and its missing parents, each 0700; folders that exist keep their mode."""
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another worker made it meanwhile
            made.mkdir(mode=FOLDER_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically, mode 0600, surviving a crash or power loss.

    The data go to a unique temporary file in the same folder (created 0600), reach the disk,
    and replace the file in one rename, which the folder's own fsync then makes durable: a reader
    sees the old file or the new one, never a part, and never a world-readable moment.
    """
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename or a new file in it survives a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private(path: Path) -> None:
    """0600 for a file another program wrote (Playwright's screenshots and traces)."""
    os.chmod(path, FILE_MODE)


def nearest_folder(path: Path) -> Path:
    """The closest of `path`'s parents that exists: where its missing folders would be made."""
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    return folder


def can_write_in(folder: Path) -> bool:
    """Whether this process may make files and folders in `folder`."""
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
