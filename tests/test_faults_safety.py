"""Faults on the emergency path: the staff alert and the record come before any display and never depend on
one (a closed stdout, a failing speaker or screen costs only that display), and a staff pager that cannot run
or fails is found at start, by `kiosk check` and `kiosk doctor`, and told to the person in every mode.

Real parts: the real kiosk as a subprocess (a real pipe closed like `| head -3`), the real content and
dialog, a real pager program that records each invocation, the real Vosk engine (the Korean PyPI model) on
real recorded answers for the voice session. Stand-ins only for devices: the speaker.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.asr.vosk_engine import VoskRecognizer
from kiosk.audio.endpoint import Endpointer, EndpointSettings
from kiosk.audio.sources import FileSource
from kiosk.audio.speaker import RecordingOutput
from kiosk.content.bundle import Content
from kiosk.content.datafiles import data_dir
from kiosk.dialog.actions import Finished
from kiosk.dialog.machine import Dialog, State
from kiosk.dialog.normalize import Normalizer
from kiosk.dialog.understanding import Understanding
from kiosk.session.events import EventSinks
from kiosk.session.records import SessionStore
from kiosk.session.staff_alert import StaffAlert
from kiosk.session.typed import build_text_session
from kiosk.session.voice import VoiceSession
from kiosk.settings import DialogSettings, SiteSettings, load_settings
from kiosk.tts.voice import PromptLibrary, Voice
from tests.fakes import FakeClock

ROOT = Path(__file__).resolve().parents[1]
CONTENT = Content.load()
SPEECH = CONTENT.speech
YES_WAV = ROOT / "tests" / "audio" / "ko" / "yes__네.wav"


def pager(tmp: Path, status: int = 0, name: str = "page-staff") -> tuple[Path, Path]:
    """A real pager program: appends its arguments to a log, then exits with `status`."""
    log = tmp / f"{name}.log"
    script = tmp / name
    script.write_text(f"#!/bin/sh\necho \"$*\" >> '{log}'\nexit {status}\n", encoding="utf-8")
    script.chmod(0o755)
    return script, log


def pages(log: Path, expected: int = 1, wait: float = 10.0) -> list[str]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        if len(lines) >= expected:
            return lines
        time.sleep(0.05)
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def environment(tmp: Path, config: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp / "s.db"), "KIOSK_SPARE_DIR": str(tmp / "spare")}
    if config:
        (tmp / "kiosk.toml").write_text(config, encoding="utf-8")
        env["KIOSK_CONFIG"] = str(tmp / "kiosk.toml")
    return env


def clinic(script: Path, extra: str = "") -> str:
    return f"[site]\nmode = 'clinic'\nstaff_alert_command = ['{script}', 'kiosk-1']\n{extra}"


# --- 1. a closed stdout during an emergency: the pager runs, the record is saved ---

@pytest.mark.parametrize(("mode", "answer"), [("--jsonl", "救急車"), ("--text", "はい")],
                         ids=["jsonl-help-request", "text-stroke-yes"])
def test_a_reader_that_went_away_costs_only_the_display(tmp_path: Path, mode: str, answer: str) -> None:
    # `kiosk --jsonl | head -3`: the reader exits after 3 lines, then the emergency comes.
    script, log = pager(tmp_path)
    env = environment(tmp_path, clinic(script))
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    for _ in range(3):
        proc.stdout.readline()
    proc.stdout.close()  # what `head -3` does when it has its lines
    _, err = proc.communicate(answer + "\n", timeout=60)
    assert "Traceback" not in err and "Broken pipe" in err and "the session goes on" in err, err
    assert proc.returncode == 0, err
    assert pages(log) == ["kiosk-1"], "staff were paged exactly once"
    record = SessionStore(tmp_path / "s.db").recent(1)[0]
    assert record["level"] == "emergency" and record["completed"]


def test_in_a_typed_session_the_alert_and_the_record_come_before_the_emergency_is_shown(tmp_path: Path) -> None:
    script, log = pager(tmp_path)
    settings = load_settings(None, environ=environment(tmp_path, clinic(script)))
    seen: dict[str, Any] = {}

    class Display:
        """The terminal: when the emergency text reaches it, what has already happened?"""

        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> int:
            if "!!!" in text and not seen:
                seen["sent"] = session.alert.sent
                seen["journal"] = [p.read_text(encoding="utf-8") for p in store.journal.places if p.exists()]
            self.text += text
            return len(text)

        def flush(self) -> None:
            return None

    display = Display()
    session = build_text_session(settings, jsonl=False, out=display)  # type: ignore[arg-type]
    kept = session.store
    assert kept is not None
    store: SessionStore = kept
    finished = session.run(io.StringIO("はい\n"))
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert seen["sent"] == 1, "staff were paged before anything was shown"
    assert len(seen["journal"]) == 1 and '"emergency"' in seen["journal"][0], "the record was on disk first"
    assert pages(log) == ["kiosk-1"]
    assert SessionStore(tmp_path / "s.db").recent(1)[0]["level"] == "emergency"
    assert not any(p.exists() for p in store.journal.places), "merged into the database: nothing left"


@pytest.mark.vosk
def test_in_a_voice_session_a_failing_screen_and_speaker_cost_only_themselves(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    script, log = pager(tmp_path)
    store = SessionStore(tmp_path / "s.db", spare_dir=tmp_path / "spare")
    site = SiteSettings(mode="clinic", staff_alert_command=(str(script), "kiosk-1"), fallback="none")
    alert = StaffAlert(site.staff_alert_command)
    at_first_sound: dict[str, Any] = {}

    class Speaker(RecordingOutput):
        """Plays the questions; at the emergency prompt, notes what had happened by then and fails like a
        speaker unplugged."""

        def start(self, pcm: bytes) -> None:
            if dialog.state is not State.ASKING:
                at_first_sound.setdefault("sent", alert.sent)
                at_first_sound.setdefault("journaled", [p for p in store.journal.places if p.exists()])
                raise OSError("[Errno 19] No such device")
            super().start(pcm)

    shown: list[dict[str, Any]] = []

    def broken_screen(event: dict[str, Any]) -> None:
        raise ConnectionResetError("the screen's browser went away")

    clock = FakeClock()
    dialog = Dialog(ko_content, site, DialogSettings(), clock, "voice")
    library = PromptLibrary(data_dir("audio_prompts"), ko_content.prompt_texts())
    session = VoiceSession(dialog, ko_recognizer, FileSource([YES_WAV, YES_WAV]), Voice(library, Speaker(), None),
                           Endpointer(EndpointSettings(trailing_silence=1.0, no_input=8.0, max_utterance=10.0)),
                           Understanding(ko_content.phrases, Normalizer.load()),
                           EventSinks(broken_screen, shown.append), store, alert, clock)
    with caplog.at_level(logging.ERROR):
        finished = session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert at_first_sound["sent"] == 1, "staff were paged before the prompt was played"
    assert at_first_sound["journaled"], "the record was on disk before the prompt was played"
    kinds = [e["type"] for e in shown]
    assert "emergency" in kinds and "outcome" in kinds and kinds[-1] == "say", "the other display saw it all"
    assert caplog.text.count("the screen's browser went away") == 1, "a failing display is logged once"
    assert pages(log) == ["kiosk-1"]
    assert store.recent(1)[0]["level"] == "emergency" and not store.unsaved


# --- 4. a pager that is missing, cannot run, or fails ---

@pytest.mark.parametrize("command", [["--text"], ["--jsonl"], [], ["replay", "ANSWERS"], ["check"]],
                         ids=["text", "jsonl", "voice", "replay", "check"])
def test_a_pager_that_does_not_exist_stops_every_start_and_check(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "answers").mkdir()
    args = [str(tmp_path / "answers") if c == "ANSWERS" else c for c in command]
    env = environment(tmp_path, "[site]\nmode = 'clinic'\nstaff_alert_command = ['/nonexistent/pager', 'k1']\n")
    proc = subprocess.run([sys.executable, "-m", "kiosk", *args], input="はい\n", capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "[site] staff_alert_command cannot be run: /nonexistent/pager does not exist" in proc.stderr, proc.stderr
    assert '"ask"' not in proc.stdout and not (tmp_path / "s.db").exists()


def test_a_pager_that_is_not_executable_is_named(tmp_path: Path) -> None:
    script, _ = pager(tmp_path)
    script.chmod(0o644)
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--jsonl"], input="", capture_output=True, text=True,
                          env=environment(tmp_path, clinic(script)), cwd=ROOT, timeout=60)
    if os.geteuid() == 0 and os.access(script, os.X_OK):
        pytest.skip("root may execute a file without x bits on this system")
    assert proc.returncode == 2 and f"{script} is not executable" in proc.stderr and f"chmod +x {script}" in proc.stderr


def test_doctor_checks_the_pager_and_runs_its_dry_run(tmp_path: Path) -> None:
    def doctor(config: str) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "kiosk", "doctor", "--only", "staff", "--json"],
                              capture_output=True, text=True, env=environment(tmp_path, config), cwd=ROOT, timeout=60)
        assert "Traceback" not in proc.stderr, proc.stderr
        row: dict[str, Any] = json.loads(proc.stdout.splitlines()[0])
        assert proc.returncode == (1 if row["status"] == "fail" else 0)
        return row

    missing = doctor("[site]\nmode = 'clinic'\nstaff_alert_command = ['/nonexistent/pager']\n")
    assert missing["status"] == "fail" and "/nonexistent/pager does not exist" in missing["message"]
    good, log = pager(tmp_path, 0, "good-pager")
    found = doctor(clinic(good, "staff_alert_check_args = ['--dry-run']\n"))
    assert found["status"] == "ok" and "--dry-run" in found["message"]
    assert pages(log) == ["kiosk-1 --dry-run"], "the dry run is the command with its fixed arguments plus these"
    bad, _ = pager(tmp_path, 3, "bad-pager")
    failed = doctor(clinic(bad, "staff_alert_check_args = ['--dry-run']\n"))
    assert failed["status"] == "fail" and "status 3" in failed["message"]
    assert doctor(clinic(good))["status"] == "ok", "without check arguments: only that it can run"
    assert doctor("")["status"] == "ok", "home mode: no pager needed"


@pytest.mark.parametrize("mode", ["--text", "--jsonl"])
def test_a_pager_that_fails_is_told_to_the_person_in_typed_sessions(tmp_path: Path, mode: str) -> None:
    script, log = pager(tmp_path, status=3)
    proc = subprocess.run([sys.executable, "-m", "kiosk", mode], input="はい\n", capture_output=True, text=True,
                          env=environment(tmp_path, clinic(script)), cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    out = proc.stdout
    assert SPEECH["emergency_clinic"] in out and SPEECH["emergency_alert_failed"] in out
    assert out.index(SPEECH["emergency_alert_failed"]) > out.index(SPEECH["emergency_clinic"])
    assert "ended with status 3" in proc.stderr and pages(log) == ["kiosk-1"]
