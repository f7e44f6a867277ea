"""Records under faults: sessions run against a full disk, a read-only mount or a damaged database file are
journaled and all reach `kiosk history` after the next healthy start; a merge run twice adds nothing twice;
SIGHUP and a stdout that cannot be written keep the session's record; `kiosk history` and `kiosk doctor`
survive damaged rows; an existing database readable by others is made private at start.

Real parts: the real kiosk in subprocesses, real SQLite files, a real tmpfs in a private mount namespace
(`unshare -rm`) for the full disk and the read-only mount.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import doctor
from kiosk.content.bundle import Content
from kiosk.session.journal import journal_places
from kiosk.session.records import SessionStore
from kiosk.settings import Settings, StorageSettings
from tests.jsonl_driver import UTTERANCES

ROOT = Path(__file__).resolve().parents[1]
RECORD = {"started_at": 1.0, "duration_s": 2.0, "channel": "test", "mode": "home", "completed": True,
          "level": "consult", "departments": ["ortho"], "reasons": ["one_side"], "answers": {"side": "left"},
          "turns": [], "emergency_request": False, "version": "0"}
SESSIONS = ["救急車\n", "はい\n", "いいえ\nいいえ\n"]
"""Three one-shot `kiosk --jsonl` sessions: a call for help, a stroke sign, an input that ends early."""
CONTENT_TEXTS = {q.id: q.text for q in Content.load().questionnaire.questions}


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


NAMESPACES = pytest.mark.skipif(not _can_mount_tmpfs(),
                                reason="no user+mount namespaces here (unshare -rm) for a tiny tmpfs")


def environment(tmp: Path, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return env | {"KIOSK_CONFIG": "", "KIOSK_DB": str(db), "KIOSK_SPARE_DIR": str(tmp / "spare"),
                  "PYTHONDONTWRITEBYTECODE": "1"}


def kiosk(*args: str, tmp: Path, db: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "kiosk", *args], input=stdin, capture_output=True, text=True,
                          env=environment(tmp, db), cwd=ROOT, timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def history(tmp: Path, db: Path) -> list[dict[str, Any]]:
    proc = kiosk("history", "--json", "-n", "100", tmp=tmp, db=db)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@NAMESPACES
@pytest.mark.parametrize("fault", ["full-disk", "read-only-mount"])
def test_sessions_against_a_full_or_read_only_disk_all_reach_history_after_a_healthy_start(
        tmp_path: Path, fault: str) -> None:
    # A 256 KB tmpfs holds the database; the fault is made, three one-shot sessions run (`--jsonl` exits at
    # once after each), the fault is cleared, and the next start merges what the spare journal kept.
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    db = mnt / "s.db"
    (tmp_path / "spare").mkdir(mode=0o700)
    env = " ".join(f"{k}='{v}'" for k, v in environment(tmp_path, db).items() if k.startswith(("KIOSK_", "PYTHON")))
    make, clear = {
        "full-disk": (f"head -c 10M /dev/zero > {mnt}/fill 2>/dev/null", f"rm {mnt}/fill"),
        "read-only-mount": (f"mount -o remount,ro {mnt}", f"mount -o remount,rw {mnt}"),
    }[fault]
    typed = [answers.replace("\n", "\\n") for answers in SESSIONS]
    runs = "\n".join(f"printf '{answers}' | env {env} {sys.executable} -m kiosk --jsonl "
                     f"> {tmp_path}/out{i} 2> {tmp_path}/err{i}" for i, answers in enumerate(typed))
    script = f"""
set -u
mount -t tmpfs -o size=256k tmpfs {mnt}
printf '救急車\\n' | env {env} {sys.executable} -m kiosk --jsonl > /dev/null 2> {tmp_path}/before.err
{make}
{runs}
{clear}
env {env} {sys.executable} -m kiosk history --json -n 100 > {tmp_path}/history.out 2> {tmp_path}/history.err
"""
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=180,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for i in range(len(SESSIONS)):
        err = (tmp_path / f"err{i}").read_text(encoding="utf-8")
        assert "Traceback" not in err and "kept in memory and in the journal" in err, err
        assert str(tmp_path / "spare") in err, "the database's own folder cannot be written: the spare place"
        events = [json.loads(x) for x in (tmp_path / f"out{i}").read_text(encoding="utf-8").splitlines()]
        assert events[-1]["type"] in ("outcome", "ended"), "the person still gets the outcome"
    rows = [json.loads(x) for x in (tmp_path / "history.out").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 + len(SESSIONS), (rows, (tmp_path / "history.err").read_text(encoding="utf-8"))
    assert [r["completed"] for r in rows[:3]] == [False, True, True], "the newest first, the partial one too"
    assert not list((tmp_path / "spare").iterdir()), "merged: the journal is gone"


def test_sessions_against_a_damaged_database_file_all_reach_history_once_it_is_replaced(tmp_path: Path) -> None:
    db = tmp_path / "data" / "s.db"
    kiosk("--jsonl", tmp=tmp_path, db=db, stdin="救急車\n")
    db.write_bytes(b"these are not the records you are looking for" * 100)
    for answers in SESSIONS:
        proc = kiosk("--jsonl", tmp=tmp_path, db=db, stdin=answers)
        assert "cannot be opened" in proc.stderr and "kept in memory and in the journal" in proc.stderr
        assert str(journal_places(db, None)[0]) in proc.stderr, "beside the database: its folder is writable"
    # What `kiosk doctor` says to do: move the damaged file aside (and restore a backup if there is one).
    found = doctor.check_database(Settings(storage=StorageSettings(database=db, spare_dir=tmp_path / "spare")))
    assert found[-1].status == "fail" and "3 session record(s) wait in the journal" in found[-1].message
    db.rename(db.with_name("s.db.damaged"))
    rows = history(tmp_path, db)
    assert len(rows) == len(SESSIONS) and {r["level"] for r in rows} == {"emergency", None}
    assert history(tmp_path, db) == rows, "a second start adds nothing"


def test_a_merge_interrupted_after_the_database_took_the_records_adds_nothing_twice(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    blocked = SessionStore(db, timeout=0.1)
    blocked.save(RECORD)
    locker = sqlite3.connect(db)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        for level in ("urgent", "emergency"):
            with pytest.raises(Exception, match="kept in memory and in the journal"):
                blocked.save({**RECORD, "level": level})
    finally:
        locker.rollback()
        locker.close()
    journal = journal_places(db, None)[0]
    kept = journal.read_bytes()
    assert kept.count(b"\n") == 2
    store = SessionStore(db)
    store.start()
    assert [r["level"] for r in store.recent()] == ["emergency", "urgent", "consult"]
    journal.write_bytes(kept)  # as if the process died after the database's commit, before the journal went
    SessionStore(db).start()
    assert [r["level"] for r in SessionStore(db).recent()] == ["emergency", "urgent", "consult"]
    assert not journal.exists()


def test_the_journal_is_private_and_a_spare_place_that_is_not_is_not_used(tmp_path: Path) -> None:
    spare = tmp_path / "spare"
    spare.mkdir(mode=0o777)
    spare.chmod(0o777)  # someone else's, or left open: records must not go there
    store = SessionStore(tmp_path / "file" / "s.db", spare_dir=spare)
    (tmp_path / "file").write_text("not a folder")
    store.keep(RECORD)
    assert not list(spare.iterdir()) and store.unsaved == [RECORD]
    spare.chmod(0o700)
    store.keep(RECORD)
    kept = list(spare.iterdir())
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600


# --- signals and a stdout that cannot be written ---

def test_sighup_from_a_closed_terminal_keeps_the_partial_record(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--text"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environment(tmp_path, db), cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    question = CONTENT_TEXTS["stroke_face"]
    proc.stdin.write(UTTERANCES["no"] + "\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if question in line:
            break
    proc.stdout.close()  # the terminal is gone: nothing can be shown any more
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err
    record = SessionStore(db).recent(1)[0]
    assert not record["completed"] and record["answers"] == {"stroke_limb": "no"}


def test_a_stdout_that_hits_the_file_size_limit_does_not_lose_the_session(tmp_path: Path) -> None:
    # `ulimit -f`: the output file is at its limit, so every write to stdout fails with EFBIG; the database
    # (small, elsewhere) is below it.
    db = tmp_path / "s.db"
    out = tmp_path / "out.jsonl"
    limit_kb = 512
    out.write_bytes(b"x" * (limit_kb * 1024 - 100))
    answers = tmp_path / "answers.txt"
    answers.write_text((UTTERANCES["no"] + "\n") * 60, encoding="utf-8")
    proc = subprocess.run(["bash", "-c", f"ulimit -f {limit_kb}; exec {sys.executable} -m kiosk --jsonl "
                                         f"< {answers} >> {out}"], capture_output=True, text=True,
                          env=environment(tmp_path, db), cwd=ROOT, timeout=120)
    assert "Traceback" not in proc.stderr and "File too large" in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    record = SessionStore(db).recent(1)[0]
    assert record["completed"] and record["level"], "the whole session was recorded"


# --- damaged rows, loose modes ---

def _damage(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        columns = "started_at, duration_s, channel, mode, completed, level, departments, reasons, answers, turns, " \
                  "emergency_request, version"
        conn.execute(f"INSERT INTO sessions ({columns}) VALUES (1.7e9, 3, 'jsonl', 'home', 1, 'consult', '[]', "
                     "'[]', '{not json', '[]', 0, '0')")
        conn.execute(f"INSERT INTO sessions ({columns}) VALUES (1e300, 3, 'jsonl', 'home', 1, 'consult', '[]', "
                     "'[]', '{}', '[]', 0, '0')")
    conn.close()


def test_history_shows_damaged_rows_as_damaged_and_doctor_counts_them(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).save(RECORD)
    _damage(db)
    SessionStore(db).save({**RECORD, "level": "urgent"})
    proc = kiosk("history", tmp=tmp_path, db=db)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 and "urgent" in lines[0] and "consult" in lines[3]
    assert "damaged row (started_at" in lines[1] and "damaged row (answers: JSONDecodeError" in lines[2]
    rows = history(tmp_path, db)
    assert [r.get("damaged", "") != "" for r in rows] == [False, True, True, False]
    found = doctor.check_database(Settings(storage=StorageSettings(database=db, spare_dir=tmp_path / "spare")))
    assert [f.status for f in found] == ["warn", "ok"]
    assert "2 of 4 session record(s) are damaged" in found[0].message


def test_an_existing_database_readable_by_others_is_made_private_at_start(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).save(RECORD)
    db.chmod(0o644)
    proc = kiosk("--jsonl", tmp=tmp_path, db=db, stdin="救急車\n")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert "was readable by other users (mode 644); it is now private" in proc.stderr
    assert len(SessionStore(db).recent()) == 2

