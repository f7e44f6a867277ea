"""Completed sessions in SQLite: time, answers, outcome, reasons, timings. No names, no audio."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from kiosk.errors import StorageError

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
_COLUMNS = ("started_at", "duration_s", "channel", "mode", "completed", "level", "departments", "reasons",
            "answers", "turns", "emergency_request", "version")
_JSON = {"departments", "reasons", "answers", "turns"}
_INSERT = f"INSERT INTO sessions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


class SessionStore:
    """Appends one row per session; each write is its own transaction, so finished rows survive a crash."""

    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self.unsaved: list[dict[str, Any]] = []
        """Records that could not be written (disk full, database locked): kept in memory, written first at the
        next save, so a full disk that is cleared loses nothing while the kiosk runs."""

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder is private too
            if not self.path.exists():
                # Readable by the kiosk's user only: answers about health are private.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            conn = sqlite3.connect(self.path, timeout=self.timeout)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            return conn
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"session database {self.path} cannot be opened ({exc}); check that the folder "
                               f"exists, is writable by this user and the disk is not full") from None

    def save(self, record: dict[str, Any]) -> int:
        """Store a session record, after any that could not be stored before; StorageError if the database is
        locked, read-only or the disk is full (the record is then kept in `unsaved` for the next save)."""
        return self._write([*self.unsaved, record])

    def flush(self) -> None:
        """Write the records kept in `unsaved`, if any: on the way out, when no new record comes."""
        if self.unsaved:
            self._write(list(self.unsaved))

    def _write(self, pending: list[dict[str, Any]]) -> int:
        try:
            conn = self._connect()
        except StorageError as exc:
            self._keep(pending)
            raise StorageError(f"{exc}; {self._waiting()}") from None
        try:
            with conn:
                for item in pending:
                    cursor = conn.execute(_INSERT, _values(item))
            self.unsaved.clear()
            return int(cursor.lastrowid or 0)
        except sqlite3.Error as exc:
            self._keep(pending)
            raise StorageError(f"session could not be saved to {self.path} ({exc}); the self-check itself "
                               f"was not affected; free disk space or fix permissions; {self._waiting()}") from None
        finally:
            conn.close()

    def _keep(self, pending: list[dict[str, Any]]) -> None:
        dropped = len(pending) - MAX_UNSAVED
        if dropped > 0:
            log.error("%d unsaved session record(s) dropped: more than %d waiting", dropped, MAX_UNSAVED)
        self.unsaved = pending[-MAX_UNSAVED:]

    def _waiting(self) -> str:
        return (f"{len(self.unsaved)} record(s) are kept in memory and will be saved with the next session "
                "(they are lost if the kiosk stops first)")

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest sessions, newest first."""
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            rows = conn.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM sessions ORDER BY id DESC LIMIT ?",
                                (limit,)).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"session database {self.path} cannot be read ({exc})") from None
        finally:
            conn.close()
        result = []
        for row in rows:
            item = dict(zip(("id", *_COLUMNS), row))
            for key in _JSON:
                item[key] = json.loads(item[key])
            result.append(item)
        return result


def _values(record: dict[str, Any]) -> list[Any]:
    values = [json.dumps(record.get(c), ensure_ascii=False) if c in _JSON else record.get(c) for c in _COLUMNS]
    values[_COLUMNS.index("completed")] = int(bool(record.get("completed")))
    values[_COLUMNS.index("emergency_request")] = int(bool(record.get("emergency_request")))
    return values


def save_record(store: SessionStore | None, record: dict[str, Any]) -> None:
    """Save a session's record; a storage fault is logged, not raised: the person hears their outcome anyway,
    and the record stays in memory for the next save."""
    if store is None:
        return
    try:
        store.save(record)
    except StorageError as exc:
        log.warning("%s", exc)
