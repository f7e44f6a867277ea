"""The session store: private file, WAL, records survive, failures are StorageError (never a crash)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from kiosk.errors import StorageError
from kiosk.session.records import SessionStore

RECORD = {"started_at": 1.0, "duration_s": 2.0, "channel": "test", "mode": "home", "completed": True,
          "level": "consult", "departments": ["ortho"], "reasons": ["one_side"], "answers": {"side": "left"},
          "turns": [{"id": "side", "seconds": 1.5}], "emergency_request": False, "version": "0"}


def test_round_trip_newest_first_and_private(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "db" / "s.sqlite3")
    store.save(RECORD)
    store.save({**RECORD, "level": "urgent"})
    rows = store.recent(10)
    assert [r["level"] for r in rows] == ["urgent", "consult"]
    assert rows[0]["answers"] == {"side": "left"} and rows[0]["turns"][0]["seconds"] == 1.5
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_locked_database_is_a_storage_error_and_keeps_earlier_rows(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3", timeout=0.1)
    store.save(RECORD)
    locker = sqlite3.connect(store.path)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match="could not be saved"):
            store.save(RECORD)
    finally:
        locker.rollback()
        locker.close()
    assert len(store.recent()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_database(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3")
    store.save(RECORD)
    os.chmod(tmp_path, 0o500)
    try:
        with pytest.raises(StorageError):
            store.save(RECORD)
    finally:
        os.chmod(tmp_path, 0o700)


def test_read_only_database_via_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Works as root too: open the database read-only, as on a read-only mount.
    store = SessionStore(tmp_path / "s.sqlite3")
    store.save(RECORD)
    real_connect = sqlite3.connect

    def read_only(path: object, **kw: object) -> sqlite3.Connection:
        return real_connect(f"file:{path}?mode=ro", uri=True, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", read_only)
    with pytest.raises(StorageError):
        store.save(RECORD)
    monkeypatch.undo()
    assert len(store.recent()) == 1


def test_no_database_yet_means_no_history(tmp_path: Path) -> None:
    assert SessionStore(tmp_path / "none.sqlite3").recent() == []
