"""Completed sessions in SQLite: time, answers, outcome, reasons, timings. No names, no audio.

What the database cannot take at once waits in the pending-records journal (kiosk/session/journal.py) and in
memory, and is merged at the next save or the next start: a full disk, a read-only mount, a damaged or locked
database file lose no record that reached the journal.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import StorageError
from kiosk.session.journal import Journal, journal_places
from kiosk.settings import StorageSettings

log = logging.getLogger(__name__)
MAX_UNSAVED = 200
"""Records kept in memory while the database cannot be written (a day of a busy clinic)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    duration_s REAL NOT NULL,
    channel TEXT NOT NULL,
    mode TEXT NOT NULL,
    completed INTEGER NOT NULL,
    level TEXT,
    departments TEXT NOT NULL,
    reasons TEXT NOT NULL,
    answers TEXT NOT NULL,
    turns TEXT NOT NULL,
    emergency_request INTEGER NOT NULL,
    version TEXT NOT NULL
)
"""
_MERGED = "CREATE TABLE IF NOT EXISTS saved_records (record_id TEXT PRIMARY KEY, session_id INTEGER NOT NULL)"
"""Which records (by the id given when they were first kept) are in `sessions`: a merge run twice adds none twice."""
_COLUMNS = ("started_at", "duration_s", "channel", "mode", "completed", "level", "departments", "reasons",
            "answers", "turns", "emergency_request", "version")
_JSON = {"departments", "reasons", "answers", "turns"}
_INSERT = f"INSERT INTO sessions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
SIDE_FILES = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside the database; private like it."""


@dataclass
class _Pending:
    id: str
    record: dict[str, Any]
    journal: Path | None = None
    """Where the record was journaled (None: in memory only)."""


class SessionStore:
    """Appends one row per session; each write is its own transaction, so finished rows survive a crash."""

    def __init__(self, path: Path, timeout: float = 2.0, spare_dir: Path | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self.journal = Journal(journal_places(path, spare_dir))
        self._pending: list[_Pending] = []

    @classmethod
    def from_settings(cls, storage: StorageSettings) -> SessionStore:
        return cls(storage.database, spare_dir=storage.spare_dir)

    @property
    def unsaved(self) -> list[dict[str, Any]]:
        """Records this process has not got into the database yet (each also journaled where possible)."""
        return [p.record for p in self._pending]

    def start(self) -> None:
        """At start-up: make the database private if it is not, and merge what the journal holds. Storage
        faults are logged, not raised: the records stay in the journal for a later start."""
        try:
            if self.path.exists():
                self._connect().close()
            if self.journal.pending():
                self._commit()
        except (StorageError, OSError) as exc:
            log.warning("%s", exc)

    def keep(self, record: dict[str, Any]) -> None:
        """Make the record durable at once, in the journal (milliseconds), before anything is shown; the
        database gets it at the next save or flush. Never raises: without a journal it stays in memory."""
        pending = _Pending(uuid.uuid4().hex, record)
        pending.journal = self.journal.append({"id": pending.id, "record": record})
        self._pending.append(pending)

    def save(self, record: dict[str, Any]) -> int:
        """Store a session record, after any not stored before; StorageError if the database is locked,
        read-only, damaged or the disk is full (the record is then journaled and kept for the next save)."""
        self._pending.append(_Pending(uuid.uuid4().hex, record))
        return self._commit()

    def flush(self) -> None:
        """Write what is waiting (kept records, journal entries), if anything is."""
        if self._pending or self.journal.pending():
            self._commit()

    def _commit(self) -> int:
        try:
            conn = self._connect()
        except StorageError as exc:
            self._fall_back()
            raise StorageError(f"{exc}; {self._waiting()}") from None
        try:
            with self.journal.claimed() as journaled, conn:
                entries = {e["id"]: e["record"] for e in journaled} | {p.id: p.record for p in self._pending}
                row = 0
                for record_id, record in entries.items():
                    row = _insert(conn, record_id, record) or row
            self._pending.clear()
            return row
        except (sqlite3.Error, ValueError, TypeError) as exc:
            self._fall_back()
            raise StorageError(f"session could not be saved to {self.path} ({exc}); the self-check itself "
                               f"was not affected; free disk space or fix permissions; {self._waiting()}") from None
        finally:
            conn.close()

    def _fall_back(self) -> None:
        for pending in self._pending:
            if pending.journal is None:
                pending.journal = self.journal.append({"id": pending.id, "record": pending.record})
        dropped = [p for p in self._pending[:-MAX_UNSAVED]]
        if dropped:
            lost = sum(p.journal is None for p in dropped)
            log.error("%d record(s) beyond %d dropped from memory (%d of them in no journal: lost)",
                      len(dropped), MAX_UNSAVED, lost)
            self._pending = self._pending[-MAX_UNSAVED:]

    def _waiting(self) -> str:
        places = sorted({str(p.journal) for p in self._pending if p.journal is not None})
        only_memory = sum(p.journal is None for p in self._pending)
        where = f" and in the journal {', '.join(places)}" if places else ""
        lost = (f"; {only_memory} of them could not be journaled and are lost if the kiosk stops first"
                if only_memory else "")
        return (f"{len(self._pending)} record(s) are kept in memory{where}, and will be saved with the next "
                f"session or at the next start{lost}")

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder is private too
            if not self.path.exists():
                # Readable by the kiosk's user only: answers about health are private.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            else:
                self._make_private()
            conn = sqlite3.connect(self.path, timeout=self.timeout)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            conn.execute(_MERGED)
            return conn
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"session database {self.path} cannot be opened ({exc}); check that the folder "
                               f"exists, is writable by this user and the disk is not full") from None

    def _make_private(self) -> None:
        """An existing database readable by others (copied in with cp, restored by root) is tightened to 600
        before a record is written; if that is not possible it is not used, and the records wait."""
        for path in (self.path, *(self.path.with_name(self.path.name + s) for s in SIDE_FILES)):
            try:
                mode = stat.S_IMODE(path.stat().st_mode)
            except FileNotFoundError:
                continue
            if not mode & 0o077:
                continue
            try:
                os.chmod(path, 0o600)
            except OSError as exc:
                raise OSError(f"{path} is readable by other users (mode {mode:o}) and cannot be made private "
                              f"({exc.strerror}); run `chmod 600 {path}` as its owner") from None
            log.warning("%s was readable by other users (mode %o); it is now private (600)", path, mode)

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest sessions, newest first; a row that cannot be decoded has `damaged` saying why."""
        return [decode_row(row) for row in self._rows(limit)]

    def _rows(self, limit: int | None) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            query = f"SELECT id, {', '.join(_COLUMNS)} FROM sessions ORDER BY id DESC"
            return conn.execute(query + " LIMIT ?", (limit,)).fetchall() if limit is not None else \
                conn.execute(query).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"session database {self.path} cannot be read ({exc})") from None
        finally:
            conn.close()


def count_damaged(conn: sqlite3.Connection) -> int:
    """How many rows of the sessions table cannot be decoded (for `kiosk doctor`; reads only)."""
    rows = conn.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM sessions")
    return sum("damaged" in decode_row(row) for row in rows)


def decode_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row as a record; a value that cannot be what it should (bad JSON, a time out of range, a wrong type)
    leaves the raw values and adds `damaged`, so one bad row never hides the others."""
    item = dict(zip(("id", *_COLUMNS), row))
    problems = []
    for key in sorted(_JSON):
        try:
            item[key] = json.loads(item[key])
        except (TypeError, ValueError) as exc:
            problems.append(f"{key}: {type(exc).__name__}")
    for key in ("started_at", "duration_s"):
        value = item[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e11:
            problems.append(f"{key}: {str(value)[:20]!r} is not a time")
    if problems:
        item["damaged"] = "; ".join(problems)
    return item


def _insert(conn: sqlite3.Connection, record_id: str, record: dict[str, Any]) -> int:
    if conn.execute("SELECT 1 FROM saved_records WHERE record_id = ?", (record_id,)).fetchone():
        return 0
    row = int(conn.execute(_INSERT, _values(record)).lastrowid or 0)
    conn.execute("INSERT INTO saved_records (record_id, session_id) VALUES (?, ?)", (record_id, row))
    return row


def _values(record: dict[str, Any]) -> list[Any]:
    values = [json.dumps(record.get(c), ensure_ascii=False) if c in _JSON else record.get(c) for c in _COLUMNS]
    values[_COLUMNS.index("completed")] = int(bool(record.get("completed")))
    values[_COLUMNS.index("emergency_request")] = int(bool(record.get("emergency_request")))
    return values


def save_record(store: SessionStore | None, record: dict[str, Any]) -> None:
    """Save a session's record; a storage fault is logged, not raised: the person hears their outcome anyway,
    and the record waits in the journal and in memory for the next save."""
    if store is None:
        return
    try:
        store.save(record)
    except StorageError as exc:
        log.warning("%s", exc)


def keep_record(store: SessionStore | None, record: dict[str, Any]) -> None:
    """An emergency's record, durable before any display (see SessionStore.keep)."""
    if store is not None:
        store.keep(record)


def commit_records(store: SessionStore | None) -> None:
    """Write kept records to the database now; a storage fault is logged, the records wait."""
    if store is None:
        return
    try:
        store.flush()
    except StorageError as exc:
        log.warning("%s", exc)
