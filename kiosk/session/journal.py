"""The pending-records journal: session records the database does not have yet, one JSON line each.

A record goes here when the database cannot take it (full disk, read-only mount, damaged or locked file), and
an emergency's record goes here first of all, before any display, because an append and an fsync take
milliseconds where the database may wait seconds for a lock. The first place that can be written is used:
beside the database, else a second place (another disk, or memory that outlives the process). Entries are
merged into the database at the next save or the next start; each carries an id the database remembers, so a
merge that is interrupted and run again adds nothing twice. Files are private (0600, folders 0700) and
locked while written or merged, so two kiosk processes never lose each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
SUFFIX = ".pending.jsonl"


def journal_places(database: Path, spare_dir: Path | None) -> tuple[Path, ...]:
    """Where the journal of `database` may be written, in order: beside it, then in `spare_dir` (named after
    the database's full path, so that kiosks with different databases never mix their records)."""
    beside = database.with_name(database.name + SUFFIX)
    if spare_dir is None:
        return (beside,)
    key = hashlib.sha256(str(database.absolute()).encode()).hexdigest()[:12]
    return beside, spare_dir / f"{database.stem}-{key}{SUFFIX}"


class Journal:
    """Appends entries durably to the first writable place; hands out every entry of every place to merge."""

    def __init__(self, places: tuple[Path, ...]) -> None:
        self.places = places

    def append(self, entry: dict[str, Any]) -> Path | None:
        """Write one entry and fsync it; the place written, or None when no place could take it (logged)."""
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        for place in self.places:
            try:
                _private_folder(place.parent, spare=place is not self.places[0])
                _append(place, line)
                return place
            except OSError as exc:
                log.warning("the record journal %s cannot be written (%s)", place, exc.strerror or exc)
        return None

    def pending(self) -> int:
        """How many entries wait in the journal (a count for doctor and history; nothing is locked)."""
        count = 0
        for place in self.places:
            with contextlib.suppress(OSError):
                count += sum(1 for line in place.read_bytes().splitlines() if line.strip())
        return count

    @contextlib.contextmanager
    def claimed(self) -> Iterator[list[dict[str, Any]]]:
        """Every readable entry of every place, locked against appends; when the block ends without an
        exception (the entries are merged), the files are removed."""
        with contextlib.ExitStack() as stack:
            held: list[tuple[Path, int]] = []
            entries: list[dict[str, Any]] = []
            for place in self.places:
                fd = _open_locked(place)
                if fd is None:
                    continue
                stack.callback(os.close, fd)
                held.append((place, fd))
                entries += _entries(place, fd)
            yield entries
            for place, fd in held:
                try:
                    place.unlink()
                except OSError:
                    # A read-only place keeps its entries; merging them again adds nothing twice.
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, 0)


def _private_folder(folder: Path, spare: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if spare:
        # A shared place such as /var/tmp: a folder someone else made (or left open) must not get the records.
        info = folder.stat()
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise PermissionError(0, f"{folder} is not private to this user (owner {info.st_uid}, mode "
                                     f"{stat.S_IMODE(info.st_mode):o}); remove it or choose [storage] spare_dir")


def _append(place: Path, line: bytes) -> None:
    while True:
        fd = os.open(place, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not _same_file(place, fd):
                continue  # merged and removed while this process waited for the lock: append to a new file
            size = os.fstat(fd).st_size
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # no torn line in front of the next record
                raise
            if size == 0:
                _fsync_folder(place.parent)  # a new file: its name must survive a power cut too
            return
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(place: Path, fd: int) -> bool:
    try:
        return os.stat(place).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _open_locked(place: Path) -> int | None:
    while True:
        try:
            fd = os.open(place, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError:
            try:  # a read-only mount: the entries can still be read and merged
                fd = os.open(place, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc:
                log.warning("the record journal %s cannot be read (%s)", place, exc.strerror or exc)
                return None
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(place, fd):
            return fd
        os.close(fd)


def _entries(place: Path, fd: int) -> list[dict[str, Any]]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    entries, damaged = [], 0
    for line in b"".join(chunks).splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            damaged += 1 if line.strip() else 0
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("record"), dict):
            entries.append(entry)
        else:
            damaged += 1
    if damaged:
        log.error("%d damaged line(s) in the record journal %s skipped (a power cut while writing?)", damaged, place)
    return entries
