"""`kiosk doctor`'s checks of where records are kept: free disk space and the session database."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

from kiosk.cli.findings import FAIL, OK, WARN, Finding
from kiosk.session.records import SessionStore, count_damaged
from kiosk.settings import Settings

FAIL_BELOW_MB = 50
"""Less free space than this where the database or audio live is a failure (records would be lost)."""
WARN_BELOW_MB = 500


# --- disk space ---

def check_disk(settings: Settings, fail_below_mb: float = FAIL_BELOW_MB,
               warn_below_mb: float = WARN_BELOW_MB) -> list[Finding]:
    """Free space where the database (and, when recording is on, the answer audio) is written."""
    places = [("database", settings.storage.database.parent)]
    if settings.storage.record_audio:
        places.append(("answer audio", settings.storage.audio_dir))
    found = []
    for what, where in places:
        existing = _existing(where)
        free_mb = shutil.disk_usage(existing).free / 1e6
        text = f"{free_mb:,.0f} MB free on {existing} ({what})"
        fix = f"free space on the disk that holds {existing}, or move the {what} elsewhere in the settings"
        if free_mb < fail_below_mb:
            found.append(Finding("disk", FAIL, text + ": new session records would be lost", fix))
        elif free_mb < warn_below_mb or (what == "answer audio" and free_mb < settings.storage.audio_max_mb):
            found.append(Finding("disk", WARN, text + ": getting low", fix))
        else:
            found.append(Finding("disk", OK, text))
    return found


def _existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- database ---

def check_database(settings: Settings) -> list[Finding]:
    """The session database (see _check_database), and any records waiting in the journal after a storage
    fault, said with the database's own finding: the kiosk merges them when it next starts."""
    found = _check_database(settings)
    note = _waiting(settings)
    if note and found:
        found[-1] = replace(found[-1], message=f"{found[-1].message}; {note}")
    return found


def _check_database(settings: Settings) -> list[Finding]:
    """The session database: private, intact and writable now (checked without writing a record).

    Writable means what SQLite needs to save a record: the file and any -wal, -shm or -journal file beside it
    readable and writable by this user, and the folder writable too (SQLite creates and deletes those files
    there). That is judged by the operating system's own permission check (`os.access`, so for root, which
    permission bits do not stop, as for anyone else), plus a read-only mount, before SQLite opens anything.
    """
    db = settings.storage.database
    if not db.exists():
        parent = _existing(db.parent)
        if parent.is_dir() and _can(parent, os.W_OK | os.X_OK):
            return [Finding("database", OK, f"{db} will be created at the first session")]
        return [Finding("database", FAIL, f"{db} cannot be created: {parent} is not writable by this user",
                        f"create {db.parent} for the kiosk's user, or set KIOSK_DB / [storage] database")]
    found = []
    mode = stat.S_IMODE(db.stat().st_mode)
    if mode & 0o077:
        found.append(Finding("database", WARN, f"{db} is readable by other users (mode {mode:o}); the kiosk makes it "
                                               "private when it starts, or keeps records out of it if it cannot",
                             f"chmod 600 {db}"))
    blocked = _not_writable(db)
    if blocked is not None:
        return found + [blocked]
    try:
        conn = sqlite3.connect(db, timeout=1.0)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                return found + [Finding("database", FAIL, f"{db} is damaged ({verdict})", _restore(db))]
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock, as saving a record would; nothing written
            conn.rollback()
            count = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'").fetchone()[0]
            rows = conn.execute("SELECT count(*) FROM sessions").fetchone()[0] if count else 0
            damaged = count_damaged(conn) if count else 0
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            fix = "another program holds the database (a backup or sqlite3 shell?); close it"
        elif "readonly" in text or "read-only" in text or "unable to open" in text:
            fix = (f"make {db}, the files beside it named {db.name}-* and the folder {db.parent} writable by the "
                   "kiosk's user (a read-only mount?); the records themselves are not damaged")
        else:
            fix = _restore(db)
        return found + [Finding("database", FAIL, f"{db} cannot be written ({text})", fix)]
    if damaged:
        found.append(Finding("database", WARN, f"{db}: {damaged} of {rows} session record(s) are damaged (values "
                                               "that cannot be read); `kiosk history` shows them as damaged and "
                                               "the others as usual",
                             f"nothing is needed for new sessions; restore those rows from a backup if they matter "
                             f"({_restore(db)})"))
    return found + [Finding("database", OK, f"{db}: {rows} session record(s), writable")]


def _waiting(settings: Settings) -> str:
    """Records kept in the journal during a storage fault, waiting for the next start to merge them."""
    journal = SessionStore.from_settings(settings.storage).journal
    waiting = journal.pending()
    if not waiting:
        return ""
    places = ", ".join(str(p) for p in journal.places if _exists(p))
    return (f"{waiting} session record(s) wait in the journal {places}, kept during a storage fault; the kiosk "
            "merges them into the database when it next starts (or at `kiosk history`)")


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a folder this user may not look into
        return False


_SQLITE_FILES = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside the database while writing: it must be able to write (or create) each one."""


def _can(path: Path, mode: int) -> bool:
    """What the operating system says this user (the effective one, as for opening a file) may do."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def _not_writable(db: Path) -> Finding | None:
    """None when this user can save a record in `db`; else why not and how to fix it, the data being fine."""
    folder = db.parent
    try:
        read_only_mount = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: no statvfs (not a POSIX system)
        read_only_mount = False
    if read_only_mount:
        return Finding("database", FAIL, f"{db} cannot be written: the disk holding {folder} is mounted read-only; "
                                         "the records are kept but no new session can be saved",
                       f"remount it read-write (check /etc/fstab, and the lock switch of an SD card), or set "
                       f"KIOSK_DB / [storage] database to a writable place; do not delete {db}")
    problems = []
    if not _can(folder, os.W_OK | os.X_OK):
        problems.append((folder, "the folder, where SQLite must create its -wal and -journal files"))
    for path in (db, *(db.with_name(db.name + suffix) for suffix in _SQLITE_FILES)):
        if (path == db or path.exists()) and not _can(path, os.R_OK | os.W_OK):
            problems.append((path, "the database" if path == db else "a file SQLite keeps beside the database"))
    if not problems:
        return None
    user = _user_name(os.geteuid()) if hasattr(os, "geteuid") else "this user"
    described = "; ".join(f"{path} is not writable ({what}; {_owner_and_mode(path)})" for path, what in problems)
    paths = " ".join(shlex.quote(str(path)) for path, _ in problems)
    return Finding("database", FAIL, f"{db} cannot be written by {user} (the user running this check): {described}; "
                                     "the records themselves are not damaged",
                   f"make them writable by the kiosk's user, e.g. `sudo chown {user} {paths}` and "
                   f"`sudo chmod u+rwX {paths}` (were they made by running the kiosk with sudo?); do not delete or "
                   "restore the database")


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _owner_and_mode(path: Path) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        return exc.strerror or str(exc)
    return f"owner {_user_name(info.st_uid)}, mode {stat.S_IMODE(info.st_mode):o}"


def _restore(db: Path) -> str:
    return f"move {db} aside (the kiosk then starts a new one) and restore the latest backup if needed"
