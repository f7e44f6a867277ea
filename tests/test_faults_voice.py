"""Faults during a spoken session: the microphone goes away, the speaker or the voice fails, the database
cannot be written, and a person says anything at all.

Real parts throughout: the Dialog on the real content, the real Vosk engine (the Korean PyPI model, with the
Korean test grammar tests/data/ko/answers.yaml, on real recorded answers), the real Microphone, endpointer,
prompt library and session store. Stand-ins only for devices (a fake sounddevice module, a speaker that
fails) and the session clock.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.asr.vosk_engine import VoskRecognizer
from kiosk.audio.endpoint import Endpointer, EndpointSettings
from kiosk.audio.microphone import Microphone
from kiosk.audio.sources import AnswerSource, FileSource, MicrophoneSource
from kiosk.audio.speaker import RecordingOutput
from kiosk.audio.wav import read_wav
from kiosk.content.bundle import Content
from kiosk.content.datafiles import data_dir
from kiosk.content.questionnaire import ALWAYS_ACCEPTED
from kiosk.dialog.actions import Ask, Ended, Finished, Say
from kiosk.dialog.machine import Dialog
from kiosk.dialog.normalize import Normalizer
from kiosk.dialog.understanding import Understanding
from kiosk.errors import AudioError, Stopped, StorageError
from kiosk.session.records import SessionStore
from kiosk.session.staff_alert import StaffAlert
from kiosk.session.voice import VoiceSession
from kiosk.settings import DialogSettings, SiteSettings
from kiosk.tts.prompt_files import text_sha256
from kiosk.tts.voice import LiveRenderer, PromptLibrary, Voice
from tests.fakes import FakeClock
from tests.jsonl_driver import UTTERANCES

ROOT = Path(__file__).resolve().parents[1]
KO_AUDIO = ROOT / "tests" / "audio" / "ko"
KO_GRAMMAR = ROOT / "tests" / "data" / "ko" / "answers.yaml"
YES_WAV, NO_WAV = KO_AUDIO / "yes__네.wav", KO_AUDIO / "no__아니요.wav"
RECORD = {"started_at": 1.0, "duration_s": 2.0, "channel": "test", "mode": "home", "completed": True,
          "level": "consult", "departments": ["ortho"], "reasons": ["one_side"], "answers": {"side": "left"},
          "turns": [], "emergency_request": False, "version": "0"}



# --- a microphone that goes away: a fake sounddevice module (the device), everything else real ---

class FakePortAudioError(Exception):
    pass


USB = {"name": "USB PnP Sound Device: Audio (hw:1,0)", "max_input_channels": 1, "max_output_channels": 0,
       "default_samplerate": 16000}


def person_loop(answer: Path, before: float = 1.0, after: float = 2.0) -> np.ndarray:
    """What the microphone hears: silence, the answer, silence — the person repeats it when asked again."""
    speech = np.frombuffer(read_wav(answer).audio, dtype="<i2").astype(np.float32) / 32768
    return np.concatenate([np.zeros(int(16000 * before), np.float32), speech,
                           np.zeros(int(16000 * after), np.float32)])[:, None]


class FakeStream:
    """Plays the person's audio through the callback from its own thread, like PortAudio, a few times
    faster than real time; after `fail_after` seconds of audio the device disappears."""

    def __init__(self, backend: FakeSoundDevice, fail_after: float | None, **kwargs: Any) -> None:
        self.device = backend
        self.kwargs = kwargs
        self.fail_after = fail_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()

    def _play(self) -> None:
        audio, block = self.device.audio, self.kwargs["blocksize"]
        fed = 0
        while not self._stop.is_set():
            if self.fail_after is not None and fed >= self.fail_after * 16000:
                self.device.unplug()
                self.kwargs["finished_callback"]()  # PortAudio ends the stream: the device is gone
                return
            start = fed % len(audio)
            piece = audio[start:start + block]
            self.kwargs["callback"](piece, len(piece), None, None)
            fed += len(piece)
            time.sleep(len(piece) / 16000 / self.device.speed)


class FakeSoundDevice:
    """The parts of sounddevice the Microphone uses, with a device that can be unplugged and come back.

    `failures`: for each stream opened in turn, after how many seconds of audio the device disappears
    (None: never). `absent_for`: how many device queries the lost device stays unlisted (None: for good).
    `open_errors`: how many times opening it fails once it is listed again (a device that errors).
    """

    PortAudioError = FakePortAudioError

    def __init__(self, audio: np.ndarray, failures: list[float | None], absent_for: int | None = 3,
                 open_errors: int = 0, speed: float = 4.0) -> None:
        self.audio = audio
        self.failures = list(failures)
        self.absent_for = absent_for
        self.open_errors_after_loss = open_errors
        self.open_errors = 0
        self.speed = speed
        self.present = True
        self.queries_while_absent = 0
        self.streams: list[FakeStream] = []
        self.default = type("Default", (), {"device": [0, -1]})()

    def unplug(self) -> None:
        self.present = False
        self.queries_while_absent = 0
        self.open_errors = self.open_errors_after_loss

    def query_devices(self) -> list[dict[str, Any]]:
        if not self.present:
            self.queries_while_absent += 1
            if self.absent_for is not None and self.queries_while_absent > self.absent_for:
                self.present = True
        return [USB] if self.present else []

    def check_input_settings(self, **kwargs: Any) -> None:
        return None

    def InputStream(self, **kwargs: Any) -> FakeStream:  # mirrors sounddevice
        if self.open_errors > 0:
            self.open_errors -= 1
            raise FakePortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")
        stream = FakeStream(self, self.failures.pop(0) if self.failures else None, **kwargs)
        self.streams.append(stream)
        return stream


# --- building a session from real parts ---

class Session:
    """A VoiceSession and what it did."""

    def __init__(self, session: VoiceSession, events: list[dict[str, Any]], output: Any) -> None:
        self.session = session
        self.events = events
        self.output = output

    def kinds(self) -> list[str]:
        return [e["type"] for e in self.events]

    def said(self) -> list[str]:
        return [e["text"] for e in self.events if e["type"] in ("say", "ask", "emergency")]


def build(content: Content, ko_recognizer: VoskRecognizer, source: AnswerSource, *, output: Any = None,
          live: LiveRenderer | None = None, store: SessionStore | None = None, prompts: Path | None = None,
          emergency_repeats: int = 0, site: SiteSettings | None = None) -> Session:
    events: list[dict[str, Any]] = []
    output = RecordingOutput() if output is None else output
    clock = FakeClock()
    site = site or SiteSettings()
    dialog = Dialog(content, site, DialogSettings(), clock, "voice")
    library = PromptLibrary(prompts or data_dir("audio_prompts"), content.prompt_texts())
    library.preload(["level.emergency", "speech.emergency_home"])
    endpointer = Endpointer(EndpointSettings(trailing_silence=1.0, no_input=8.0, max_utterance=10.0))
    session = VoiceSession(dialog, ko_recognizer, source, Voice(library, output, live), endpointer,
                           Understanding(content.phrases, Normalizer.load()), events.append, store,
                           StaffAlert(site.staff_alert_command), clock, emergency_repeats=emergency_repeats)
    return Session(session, events, output)


def run_within(seconds: float, call: Callable[[], Any]) -> Any:
    """Run `call` on a thread; fail (instead of hanging the test run) if it takes longer than `seconds`."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the session did not end within {seconds} s"
    if errors:
        raise errors[0]
    return result[0]


def microphone_source(backend: FakeSoundDevice, retries: int = 10) -> tuple[MicrophoneSource, list[float]]:
    slept: list[float] = []
    mic = Microphone(backend=backend, stall_seconds=10.0)  # a loaded CI machine must not look like a stall
    mic.start()
    return MicrophoneSource(mic, retries=retries, retry_seconds=2.0, sleep=slept.append), slept


# --- the microphone ---

@pytest.mark.vosk
@pytest.mark.parametrize(("absent_for", "open_errors"), [(3, 0), (0, 2), (2, 2)],
                         ids=["unplugged", "errors-on-open", "unplugged-then-errors"])
def test_a_microphone_lost_mid_session_pauses_says_so_and_recovers(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path, absent_for: int, open_errors: int) -> None:
    # The first stream dies 0.5 s in, before the person has answered; the device is then unlisted for a
    # few queries (unplugged) and/or refuses to open a few times (an erroring device), then works again.
    backend = FakeSoundDevice(person_loop(YES_WAV), failures=[0.5], absent_for=absent_for,
                              open_errors=open_errors)
    source, slept = microphone_source(backend)
    store = SessionStore(tmp_path / "s.db")
    run = build(ko_content, ko_recognizer, source, store=store)
    try:
        finished = run_within(60, run.session.run)
    finally:
        source.microphone.stop()
    speech = ko_content.speech
    said = run.said()
    lost, back = said.index(speech["microphone_lost"]), said.index(speech["microphone_back"])
    assert lost < back, "the kiosk says the microphone is gone, then that it is back"
    errors = [e for e in run.events if e["type"] == "error"]
    assert errors and "microphone" in errors[0]["message"] and "disconnected" in errors[0]["message"]
    asks = [i for i, e in enumerate(run.events) if e["type"] == "ask" and e["id"] == "stroke_limb"]
    assert len(asks) == 2 and asks[1] > run.events.index(errors[0]), "the question is asked again"
    assert slept and len(backend.streams) == 2
    # After recovery the person's 네 is heard: a stroke sign, so the emergency outcome, saved.
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    heard = [e for e in run.events if e["type"] == "heard"]
    assert heard[0]["id"] == "stroke_limb" and heard[0]["answer"] == "yes"
    assert store.recent(1)[0]["completed"] == 1


@pytest.mark.vosk
def test_a_microphone_that_never_comes_back_ends_the_session_cleanly(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path) -> None:
    backend = FakeSoundDevice(person_loop(YES_WAV), failures=[0.3], absent_for=None)
    source, slept = microphone_source(backend, retries=4)
    store = SessionStore(tmp_path / "s.db")
    run = build(ko_content, ko_recognizer, source, store=store)
    try:
        finished = run_within(30, run.session.run)
    finally:
        source.microphone.stop()
    assert finished is None
    assert slept == [2.0] * 4, "it tried for a while before giving up"
    said = run.said()
    assert said[-1] == ko_content.speech["incomplete"] and ko_content.speech["microphone_lost"] in said
    assert ko_content.speech["microphone_back"] not in said
    record = store.recent(1)[0]
    assert record["completed"] == 0 and record["answers"] == {}


@pytest.mark.vosk
def test_a_microphone_lost_while_the_emergency_repeats_does_not_spin(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path) -> None:
    # 네 at 1.0-1.6 s answers the stroke question; the device dies at 3.3 s, before the person could
    # acknowledge, and never returns. The emergency is shown, spoken and saved; the loop then ends.
    backend = FakeSoundDevice(person_loop(YES_WAV), failures=[3.3], absent_for=None)
    source, _ = microphone_source(backend, retries=2)
    store = SessionStore(tmp_path / "s.db")
    run = build(ko_content, ko_recognizer, source, store=store, emergency_repeats=0)
    try:
        finished = run_within(30, run.session.run)
    finally:
        source.microphone.stop()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert "emergency" in run.kinds() and run.kinds().count("error") >= 1
    assert store.recent(1)[0]["level"] == "emergency"


# --- a bad recorded answer during replay ---

@pytest.mark.vosk
def test_a_bad_answer_file_is_reported_and_the_next_file_answers(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path) -> None:
    bad = tmp_path / "01_bad.wav"
    bad.write_bytes(b"ID3\x04" + bytes(200))  # an MP3 renamed to .wav
    empty = tmp_path / "02_empty.wav"
    empty.write_bytes(b"")
    source = FileSource([bad, empty, YES_WAV])
    run = build(ko_content, ko_recognizer, source)
    finished = run.session.run()
    errors = [e["message"] for e in run.events if e["type"] == "error"]
    assert len(errors) == 2 and "looks like MP3" in errors[0] and "is empty" in errors[1]
    assert [p for p, _ in source.skipped] == [bad, empty] and source.used == [YES_WAV]
    assert ko_content.speech["microphone_lost"] not in run.said()  # files are not a microphone
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"


# --- the speaker and the voice ---

class BrokenSpeaker:
    """A speaker device that is gone: start() or wait() raise AudioError like SpeakerOutput does."""

    def __init__(self, fail_on: str = "start", after: int = 0) -> None:
        self.fail_on = fail_on
        self.after = after
        self.played: list[bytes] = []

    def start(self, pcm: bytes) -> None:
        if self.fail_on == "start" and len(self.played) >= self.after:
            raise AudioError("the speaker cannot play (Device unavailable); check the cable and `kiosk doctor`")
        self.played.append(pcm)

    def wait(self) -> None:
        if self.fail_on == "wait" and len(self.played) > self.after:
            raise AudioError("the speaker stopped (Device unavailable); check the cable and `kiosk doctor`")

    def stop(self) -> None:
        return None


@pytest.mark.vosk
@pytest.mark.parametrize(("fail_on", "after"), [("start", 0), ("start", 3), ("wait", 1)])
def test_a_failing_speaker_never_loses_the_emergency_text_or_the_record(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        fail_on: str, after: int) -> None:
    speaker = BrokenSpeaker(fail_on, after)
    store = SessionStore(tmp_path / "s.db")
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), output=speaker, store=store)
    with caplog.at_level(logging.ERROR):
        finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    emergency = next(e for e in run.events if e["type"] == "emergency")
    assert emergency["text"] and emergency["reasons"]
    assert emergency["text"] in run.session.voice.silent, "shown, and known to have been shown only"
    assert run.session.voice.output is None, "after the failure the kiosk goes on with text only"
    assert store.recent(1)[0]["level"] == "emergency"
    assert "speaker" in caplog.text
    assert run.kinds()[-2:] == ["say", "say"]  # the acknowledgement is still shown


@pytest.mark.vosk
def test_at_home_the_acknowledgement_tells_the_person_to_call_119_if_they_have_not(
        ko_content: Content, ko_recognizer: VoskRecognizer) -> None:
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]))
    finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert run.said()[-1] == ko_content.speech["emergency_acknowledged_home"]
    assert "119" in run.said()[-1], "nobody has been called at home: はい only means the prompt was understood"


@pytest.mark.vosk
def test_a_staff_alert_that_cannot_start_is_said_and_the_person_told_to_call_119(
        ko_content: Content, ko_recognizer: VoskRecognizer, caplog: pytest.LogCaptureFixture) -> None:
    site = SiteSettings(mode="clinic", staff_alert_command=("/nonexistent/kiosk-pager",), fallback="none")
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), site=site)
    with caplog.at_level(logging.ERROR):
        finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    said = run.said()
    emergency = next(i for i, e in enumerate(run.events) if e["type"] == "emergency")
    assert ko_content.speech["emergency_clinic"] in run.events[emergency]["text"]  # said before the alert ran
    failed = said.index(ko_content.speech["emergency_alert_failed"])
    assert failed < said.index(ko_content.speech["emergency_repeat"]), "corrected before anything else is asked"
    assert any(e["type"] == "error" and e["kind"] == "staff_alert" for e in run.events)
    assert said[-1] == ko_content.speech["emergency_acknowledged"]
    assert "could not be started" in caplog.text


@pytest.mark.vosk
def test_a_pager_that_fails_after_the_acknowledgement_is_still_said(
        ko_content: Content, ko_recognizer: VoskRecognizer) -> None:
    # 「スタッフや救急隊が来るまで…待ってください」 has been said when a pager times out a few seconds later.
    pager = (sys.executable, "-c", "import time; time.sleep(3); raise SystemExit(3)")
    site = SiteSettings(mode="clinic", staff_alert_command=pager, fallback="none")
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), site=site)
    finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    said = run.said()
    assert said[-2:] == [ko_content.speech["emergency_acknowledged"], ko_content.speech["emergency_alert_failed"]]


@pytest.mark.vosk
def test_a_stop_while_the_outcome_is_spoken_keeps_the_record(ko_content: Content, ko_recognizer: VoskRecognizer,
                                                             tmp_path: Path) -> None:
    # systemctl restart during the minute of outcome speech: the record is saved before the speech starts.
    class StoppedWhileSpeaking(RecordingOutput):
        def start(self, pcm: bytes) -> None:
            raise Stopped

    store = SessionStore(tmp_path / "s.db")
    run = build(ko_content, ko_recognizer, FileSource([]), output=StoppedWhileSpeaking(), store=store)
    answers = {"side": "left"}
    outcome = ko_content.outcomes.compose(ko_content.rules.triage(answers), answers)
    with pytest.raises(Stopped):
        run.session._perform([Say(outcome.speech, ("level.consult",), "outcome"), Finished(outcome, RECORD)])
    assert [r["level"] for r in store.recent()] == ["consult"]


def test_records_kept_in_memory_are_written_on_the_way_out(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).save(RECORD)
    store = SessionStore(db, timeout=0.1)
    locker = sqlite3.connect(db)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError):
            store.save({**RECORD, "level": "urgent"})
    finally:
        locker.rollback()
        locker.close()
    store.flush()
    assert [r["level"] for r in store.recent()] == ["urgent", "consult"] and not store.unsaved
    store.flush()  # nothing waiting: nothing written
    assert len(store.recent()) == 2


def test_a_staff_alert_command_that_fails_is_noticed_without_waiting_for_it(tmp_path: Path) -> None:
    slow = StaffAlert((sys.executable, "-c", "import time; time.sleep(30)"))
    assert slow.send() and not slow.failed(), "a pager still running is not a failure, and is not waited for"
    failing = StaffAlert((sys.executable, "-c", "raise SystemExit(3)"))
    assert failing.send()
    deadline = time.monotonic() + 30
    while not failing.failed():
        assert time.monotonic() < deadline, "a pager that exited with status 3 was never noticed"
        time.sleep(0.05)
    ok = StaffAlert((sys.executable, "-c", "pass"))
    assert ok.send()
    time.sleep(1.0)
    assert not ok.failed()
    assert not StaffAlert(("/bin/true",)).failed(), "nothing sent yet: nothing failed"
    assert not StaffAlert(()).send()


@pytest.mark.vosk
def test_without_live_speech_prerendered_prompts_are_played_and_the_rest_is_shown(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path) -> None:
    # Only the welcome and the emergency pieces are pre-rendered (copied from the real prompt audio);
    # no live voice (the TTS engine is missing): those are played, everything else is shown only.
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    real = data_dir("audio_prompts")
    if not (real / "manifest.json").is_file():
        pytest.skip(f"no pre-rendered prompts in {real}; run `kiosk prompts build`")
    manifest = json.loads((real / "manifest.json").read_text(encoding="utf-8"))
    keep = ["speech.welcome", "level.emergency", "reason.stroke_limb", "speech.emergency_home"]
    for pid in keep:
        shutil.copy(real / f"{pid}.wav", prompts / f"{pid}.wav")
    (prompts / "manifest.json").write_text(json.dumps({k: manifest[k] for k in keep}), encoding="utf-8")
    texts = ko_content.prompt_texts()
    if any(manifest[k]["sha256"] != text_sha256(texts[k]) for k in keep):
        pytest.skip("the pre-rendered prompts are stale; run `kiosk prompts build`")
    output = RecordingOutput()
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), output=output, live=None, prompts=prompts)
    finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    silent = run.session.voice.silent
    assert ko_content.speech["welcome"] not in silent and ko_content.speech["stroke_intro"] in silent
    emergency = next(e for e in run.events if e["type"] == "emergency")
    assert emergency["text"] not in silent, "the emergency prompt was played from its pre-rendered pieces"
    assert len(output.played) == 2  # the welcome and the emergency


@pytest.mark.vosk
def test_a_live_voice_that_fails_falls_back_to_text(ko_content: Content, ko_recognizer: VoskRecognizer,
                                                    tmp_path: Path) -> None:
    calls: list[str] = []

    def broken_tts(text: str) -> bytes | None:
        calls.append(text)
        raise RuntimeError("run loop already started")  # what pyttsx3 raises when its engine is stuck

    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), live=broken_tts, prompts=tmp_path / "none")
    finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert calls, "the live voice was tried"
    said = run.said()
    assert set(said) <= set(run.session.voice.silent), "everything is shown when nothing can be spoken"


# --- storage: locked, full; records already written survive ---

def _fill(db: Path) -> int:
    """Fill the database's pages so no further row fits under max_page_count = current page count."""
    store = SessionStore(db)
    store.save(RECORD)
    conn = sqlite3.connect(db)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    filled = 0
    try:
        while True:
            with conn:
                conn.execute("INSERT INTO sessions (started_at, duration_s, channel, mode, completed, departments, "
                             "reasons, answers, turns, emergency_request, version) "
                             "VALUES (0, 0, '', '', 0, '[]', '[]', '{}', '[]', 0, '')")
            filled += 1
    except sqlite3.DatabaseError as exc:
        assert "full" in str(exc)
    conn.close()
    return filled + 1


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection sees the database at its largest size, as on a full disk (PRAGMA max_page_count)."""
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={max(pages, 1)}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)


@pytest.mark.vosk
def test_a_full_disk_keeps_the_new_record_until_space_is_freed_and_loses_nothing_else(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    earlier = _fill(db)
    _disk_full(monkeypatch)
    store = SessionStore(db)
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), store=store)
    with caplog.at_level(logging.WARNING):
        finished = run.session.run()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert run.output.played, "the outcome was spoken"
    assert "could not be saved" in caplog.text and "full" in caplog.text
    assert "1 record(s) are kept in memory" in caplog.text
    monkeypatch.undo()
    assert len(store.recent(10_000)) == earlier
    # Space is freed; the next session's save writes the kept record first.
    store.save(RECORD)
    levels = [r["level"] for r in store.recent(2)]
    assert levels == [RECORD["level"], "emergency"] and not store.unsaved


@pytest.mark.vosk
def test_a_locked_database_keeps_the_new_record_for_the_next_save(
        ko_content: Content, ko_recognizer: VoskRecognizer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).save(RECORD)
    store = SessionStore(db, timeout=0.1)
    locker = sqlite3.connect(db)
    locker.execute("BEGIN EXCLUSIVE")  # another program (a backup, a curious admin) holds the database
    try:
        run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]), store=store)
        with caplog.at_level(logging.WARNING):
            finished = run.session.run()
    finally:
        locker.rollback()
        locker.close()
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert "could not be saved" in caplog.text and "locked" in caplog.text
    assert [r["level"] for r in store.recent()] == ["consult"]
    assert [r["level"] for r in store.unsaved] == ["emergency"]
    store.save(RECORD)
    assert [r["level"] for r in store.recent()] == [RECORD["level"], "emergency", "consult"]


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no user+mount namespaces here (unshare -rm) for a tiny tmpfs")
def test_a_really_full_disk_under_a_jsonl_session(tmp_path: Path) -> None:
    # A 256 KB tmpfs in a private mount namespace: one session is stored, the disk is then filled,
    # a second session still gives its outcome, and once space is freed the first record is intact.
    answers = "\n".join([UTTERANCES["no"]] * 300) + "\n"  # enough to reach the outcome (others become わからない)
    (tmp_path / "answers.txt").write_text(answers, encoding="utf-8")
    script = f"""
set -u
mount -t tmpfs -o size=256k tmpfs {tmp_path}/mnt
export KIOSK_DB={tmp_path}/mnt/s.db KIOSK_CONFIG= PYTHONDONTWRITEBYTECODE=1
{sys.executable} -m kiosk --jsonl < {tmp_path}/answers.txt > {tmp_path}/first.out 2> {tmp_path}/first.err
head -c 10M /dev/zero > {tmp_path}/mnt/fill 2>/dev/null
{sys.executable} -m kiosk --jsonl < {tmp_path}/answers.txt > {tmp_path}/second.out 2> {tmp_path}/second.err
echo "second exit $?" >> {tmp_path}/second.err
rm {tmp_path}/mnt/fill
{sys.executable} -m kiosk history --json > {tmp_path}/history.out 2>&1
"""
    (tmp_path / "mnt").mkdir()
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    second_err = (tmp_path / "second.err").read_text(encoding="utf-8")
    assert "Traceback" not in second_err and "disk is not full" in second_err and "second exit 0" in second_err
    second = [json.loads(line) for line in (tmp_path / "second.out").read_text(encoding="utf-8").splitlines()]
    outcome = next((e for e in second if e["type"] == "outcome"), {})
    assert outcome.get("level"), "the person still gets the outcome"
    history = [json.loads(line) for line in (tmp_path / "history.out").read_text(encoding="utf-8").splitlines()]
    assert len(history) == 2 and all(h["completed"] for h in history), \
        "the first record survives, and the second, journaled while the disk was full, is merged at the next start"


def test_records_already_written_survive_a_killed_process(tmp_path: Path) -> None:
    # Power cut: the process dies without closing anything, right after its third save returned.
    db = tmp_path / "s.db"
    code = (f"import os, signal\nfrom kiosk.session.records import SessionStore\n"
            f"from pathlib import Path\nstore = SessionStore(Path({str(db)!r}))\n"
            f"for i in range(3): store.save({RECORD!r} | {{'level': 'urgent'}})\n"
            f"os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert [r["level"] for r in SessionStore(db).recent()] == ["urgent"] * 3


# --- anything at all said to the dialog ---

CONTENT = Content.load()
UNDERSTANDING = Understanding(CONTENT.phrases, Normalizer.load())
SAYINGS = st.one_of(
    st.none(),  # silence: the no-input timeout
    st.text(max_size=40),
    st.sampled_from(sorted(UTTERANCES.values())),
    st.lists(st.sampled_from(sorted(UTTERANCES.values())), min_size=2, max_size=3).map("、".join),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sayings=st.lists(SAYINGS, max_size=60), fallback=st.sampled_from(["keyboard", "staff", "none"]))
def test_any_sequence_of_utterances_ends_in_a_safe_outcome(sayings: list[str | None], fallback: str) -> None:
    dialog = Dialog(CONTENT, SiteSettings(fallback=fallback), DialogSettings(), FakeClock(), "test")
    said: Iterator[str | None] = iter(sayings)
    actions = dialog.start()
    asked: list[str] = []
    finished = ended = None
    for _ in range(1000):
        finished = next((a for a in actions if isinstance(a, Finished)), None)
        ended = next((a for a in actions if isinstance(a, Ended)), None)
        asks = [a for a in actions if isinstance(a, Ask)]
        if finished is not None or ended is not None or not asks:
            break
        ask = asks[-1]
        if ask.attempt == 1:
            asked.append(ask.question_id)
        utterance = next(said, None)  # once the person stops talking: silence until the end
        if utterance is None:
            actions = dialog.no_input()
        else:
            actions = dialog.hear(UNDERSTANDING.understand(utterance, (*ask.answers, *ALWAYS_ACCEPTED)))
    assert finished is not None or ended is not None, "every session ends"
    assert len(asked) == len(set(asked)), "no question is asked twice as new"
    answers = dialog.answers
    assert set(answers) <= CONTENT.questionnaire.ids()
    for qid, value in answers.items():
        assert value in CONTENT.questionnaire.by_id(qid).recorded_values
    if ended is not None:
        # Nobody answered for a while: the check stopped; an urgent level reached so far is still said.
        level = CONTENT.rules.triage(answers).level
        assert level != "emergency" and not ended.record["completed"]
        spoken = [a.prompts for a in actions if isinstance(a, Say)]
        assert ((f"level.{level}",) in spoken) == (level == "urgent")
        return
    assert finished.outcome.level in ("self_care", "consult", "urgent", "emergency")
    if any(answers.get(q.id) == "yes" for q in CONTENT.questionnaire.questions if q.section == "stroke"):
        assert finished.outcome.level == "emergency"
    if finished.record.get("emergency_request"):
        assert finished.outcome.level == "emergency"
