"""Files replaced whole: a reader (or a power cut) sees the old file or the complete new one, never a part."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_SUFFIX = ".tmp"


def leftovers(name: str) -> re.Pattern[str]:
    """File names of the temporary files `replacing()` leaves when a crash or a full disk stops it, for
    targets whose names match the regular expression `name`."""
    return re.compile(rf"\.(?:{name})\..+{re.escape(_SUFFIX)}")


@contextmanager
def replacing(path: Path | str, binary: bool = False, durable: bool = False) -> Iterator[IO[Any]]:
    """Write into a temporary file beside `path` (named .<name>.<random>.tmp); replace `path` when done.

    On any error the temporary file is removed and `path` is left as it was. `durable`: the data reaches the
    disk before the name points at it (survives a power cut; costs a flush on an SD card).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=_SUFFIX)
    try:
        f: IO[Any]
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
