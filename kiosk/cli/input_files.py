"""Audio files named on the command line (recognize, replay): regular files only, said clearly otherwise.

A FIFO would make the kiosk wait for ever on its first read, a folder named 06.wav or a symlink that loops
would be skipped or fail deep inside; each is refused before anything is read, naming what it is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from kiosk.errors import AudioError


def not_regular(path: Path, expected: str = "a WAV file") -> str | None:
    """Why `path` cannot be read as `expected` (None when it is a regular file, or missing: the reader says
    that one itself)."""
    try:
        info = os.stat(path)  # follows symlinks, as opening would
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path} is a symlink to {os.readlink(path)}, which does not exist; point it at the recording"
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path} is a symlink that loops back on itself; replace it with the recording"
        return None
    if stat.S_ISREG(info.st_mode):
        return None
    kind = ("a folder" if stat.S_ISDIR(info.st_mode) else
            "a named pipe (FIFO), which would make the kiosk wait for ever" if stat.S_ISFIFO(info.st_mode) else
            "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
            "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
    return f"{path} is {kind}, not {expected}; give {expected} that is a regular file"


def resolved(path: Path) -> Path:
    """`path` made absolute with symlinks followed; a looping symlink is an AudioError, not a RuntimeError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise AudioError(f"{path} is a symlink that loops back on itself; replace it with the recording") from None
