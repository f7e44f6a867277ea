"""Inputs and limits: every number setting is checked once at load against its range, with the same message
from `kiosk check`, `kiosk doctor` and every start; files that are not regular (a FIFO, a folder named
06.wav, a symlink that loops or points nowhere) are refused by `recognize` and `replay` without hanging; a
long file is recognised from a stream, its first answer; and every output of replay is private (0600/0700).

Real parts: the real kiosk in subprocesses, the real Vosk engine (the Korean PyPI model) on real recorded
answers for recognition and replay.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from kiosk.audio.wav import read_wav
from kiosk.errors import SettingsError
from kiosk.settings import _OFF_BY_ZERO, _RANGES, Settings, load_settings
from tests.model_paths import korean_model_dir

ROOT = Path(__file__).resolve().parents[1]
KO_GRAMMAR = ROOT / "tests" / "data" / "ko" / "answers.yaml"
YES_WAV, NO_WAV = ROOT / "tests" / "audio" / "ko" / "yes__네.wav", ROOT / "tests" / "audio" / "ko" / "no__아니요.wav"


def environment(tmp: Path, config: str = "", model: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp / "s.db"), "KIOSK_SPARE_DIR": str(tmp / "spare")}
    if model:
        env |= {"KIOSK_VOSK_MODEL": str(korean_model_dir()), "KIOSK_GRAMMAR": str(KO_GRAMMAR)}
    if config:
        (tmp / "kiosk.toml").write_text(config, encoding="utf-8")
        env["KIOSK_CONFIG"] = str(tmp / "kiosk.toml")
    return env


def kiosk(*args: str, env: dict[str, str], stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "kiosk", *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=ROOT, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# --- 7. every setting validated once, at load, with its range ---

def test_every_number_setting_has_a_range() -> None:
    for section in dataclasses.fields(Settings):
        for item in dataclasses.fields(getattr(Settings(), section.name)):
            value = getattr(getattr(Settings(), section.name), item.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert (section.name, item.name) in _RANGES, f"[{section.name}] {item.name} has no range"


@pytest.mark.parametrize("key", sorted(_RANGES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_each_range_is_enforced_at_its_bounds(tmp_path: Path, key: tuple[str, str]) -> None:
    # threads = 5000 hung the recognizer and 100000 crashed it; trailing_silence = 0 passed check and doctor
    # and failed at replay: each such value now fails when the settings load, wherever that is.
    section, name = key
    low, high = _RANGES[key]
    whole = isinstance(getattr(getattr(Settings(), section), name), int)
    step = 1 if whole else 0.01

    def load(value: float) -> Settings:
        config = tmp_path / "kiosk.toml"
        config.write_text(f"[{section}]\n{name} = {int(value) if whole else float(value)!r}\n", encoding="utf-8")
        return load_settings(config, environ={})

    assert getattr(getattr(load(low), section), name) == low
    if high is not None:
        assert getattr(getattr(load(high), section), name) == high
        with pytest.raises(SettingsError, match=rf"\[{section}\] {name} is .*; it must be"):
            load(high + step)
    if low > 0:
        with pytest.raises(SettingsError, match=rf"\[{section}\] {name} is .*; it must be"):
            load(low - step if low - step >= 0 else 0)
    if key in _OFF_BY_ZERO:
        assert getattr(getattr(load(0), section), name) == 0, "0 turns it off"


BAD_SETTINGS = {
    "threads-huge": ("[models]\nthreads = 100000\n", "[models] threads is 100000; it must be from 1 to 64"),
    "no-trailing-silence": ("[listen]\ntrailing_silence = 0\n", "[listen] trailing_silence is 0; it must be from 0.3"),
    "no-input-too-short": ("[listen]\nno_input = 0.5\n", "[listen] no_input is 0.5; it must be 0 (off) or from 1"),
}


@pytest.mark.parametrize("case", BAD_SETTINGS, ids=list(BAD_SETTINGS))
@pytest.mark.parametrize("command", [["check"], ["doctor", "--only", "content"], ["--jsonl"],
                                     ["replay", "ANSWERS"]], ids=["check", "doctor", "start", "replay"])
def test_check_doctor_and_start_refuse_the_same_setting_with_the_same_message(
        tmp_path: Path, case: str, command: list[str]) -> None:
    toml, message = BAD_SETTINGS[case]
    (tmp_path / "answers").mkdir()
    shutil.copy(YES_WAV, tmp_path / "answers" / "01.wav")
    args = [str(tmp_path / "answers") if c == "ANSWERS" else c for c in command]
    proc = kiosk(*args, env=environment(tmp_path, toml), stdin="はい\n", timeout=60)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert f"{tmp_path / 'kiosk.toml'}: {message}" in proc.stderr, proc.stderr


# --- 8. files that are not regular files ---

def _irregular(folder: Path) -> dict[str, str]:
    """Entries named like answers that are not recordings, with what the message must say."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "02_fifo.wav")
    (folder / "06.wav").mkdir()
    os.symlink("03_loop.wav", folder / "03_loop.wav")
    os.symlink(folder / "gone.wav", folder / "04_dangling.wav")
    return {"02_fifo.wav": "named pipe (FIFO)", "06.wav": "is a folder", "03_loop.wav": "loops back on itself",
            "04_dangling.wav": "which does not exist"}


@pytest.mark.vosk
def test_recognize_refuses_each_irregular_file_and_goes_on(tmp_path: Path) -> None:
    expected = _irregular(tmp_path)
    shutil.copy(YES_WAV, tmp_path / "01_yes.wav")
    names = ["01_yes.wav", *expected]
    proc = kiosk("recognize", *(str(tmp_path / n) for n in names), "--answers", "yes,no",
                 env=environment(tmp_path, model=True), timeout=60)  # a FIFO used to hang here for ever
    assert proc.returncode == 1
    rows = {Path(row["file"]).name: row for row in map(json.loads, proc.stdout.splitlines())}
    assert list(rows) == names and rows["01_yes.wav"]["answer"] == "yes"
    for name, message in expected.items():
        assert message in rows[name]["error"] and name in rows[name]["error"], rows[name]


@pytest.mark.parametrize("entry", ["02_fifo.wav", "06.wav", "03_loop.wav", "04_dangling.wav"])
def test_replay_refuses_a_folder_with_an_irregular_entry_naming_it(tmp_path: Path, entry: str) -> None:
    answers = tmp_path / "answers"
    expected = _irregular(tmp_path / "all")
    answers.mkdir()
    shutil.copy(YES_WAV, answers / "01.wav")
    os.rename(tmp_path / "all" / entry, answers / entry)  # a relative symlink to itself still loops
    proc = kiosk("replay", str(answers), "--out", str(tmp_path / "out"), env=environment(tmp_path), timeout=60)
    assert proc.returncode == 2 and expected[entry] in proc.stderr and entry in proc.stderr, proc.stderr
    assert "replay reads one regular WAV file per answer" in proc.stderr
    assert not (tmp_path / "out").exists(), "refused before anything was run or written"


def test_replay_refuses_a_manifest_naming_a_fifo_or_a_loop_and_a_fifo_manifest(tmp_path: Path) -> None:
    expected = _irregular(tmp_path / "files")
    manifest = tmp_path / "answers.txt"
    manifest.write_text(f"{YES_WAV}\nfiles/02_fifo.wav\n", encoding="utf-8")
    proc = kiosk("replay", str(manifest), "--out", str(tmp_path / "out"), env=environment(tmp_path), timeout=60)
    assert proc.returncode == 2 and expected["02_fifo.wav"] in proc.stderr
    manifest.write_text(f"{YES_WAV}\nfiles/03_loop.wav\n", encoding="utf-8")
    proc = kiosk("replay", str(manifest), "--out", str(tmp_path / "out"), env=environment(tmp_path), timeout=60)
    assert proc.returncode == 2 and "loops back on itself" in proc.stderr
    os.mkfifo(tmp_path / "pipe.txt")
    proc = kiosk("replay", str(tmp_path / "pipe.txt"), "--out", str(tmp_path / "out"), env=environment(tmp_path),
                 timeout=60)
    assert proc.returncode == 2 and "named pipe (FIFO)" in proc.stderr and "not a manifest" in proc.stderr


# --- 9. a long file is streamed: its first answer, memory bounded (bench/long_file.py measures it) ---

def _long_file(path: Path, answer: Path, silence_before: float, seconds: float) -> Path:
    speech = read_wav(answer).audio
    rate = 16000
    before = b"\0\0" * int(rate * silence_before)
    after = b"\0\0" * max(0, int(rate * seconds) - len(before) // 2 - len(speech) // 2)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(before + speech + after)
    return path


@pytest.mark.vosk
def test_a_long_recording_gives_its_first_answer_and_where_it_was(tmp_path: Path) -> None:
    early = _long_file(tmp_path / "early.wav", YES_WAV, 1.0, 180.0)
    late = _long_file(tmp_path / "late.wav", NO_WAV, 75.0, 120.0)
    silent = _long_file(tmp_path / "silent.wav", YES_WAV, 0.0, 40.0)
    with wave.open(str(silent), "rb") as f:
        frames = f.getnframes()
    silent.write_bytes(silent.read_bytes()[:44] + b"\0" * (frames * 2))  # the answer overwritten by silence
    proc = kiosk("recognize", str(early), str(late), str(silent), "--answers", "yes,no",
                 env=environment(tmp_path, model=True))
    assert proc.returncode == 0, proc.stderr
    rows: list[dict[str, Any]] = [json.loads(x) for x in proc.stdout.splitlines()]
    assert rows[0]["answer"] == "yes" and 0.5 < rows[0]["speech"][0] < 1.5
    assert rows[1]["answer"] == "no" and 74.5 < rows[1]["speech"][0] < 76, "no input limit in a recording"
    assert rows[2] == {"file": str(silent), "answer": "unknown", "text": "", "confidence": 0.0, "speech": None}


# --- 10. every output is private ---

@pytest.mark.vosk
def test_every_replay_output_is_private_whatever_the_umask(tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    answers.mkdir()
    for i, source in enumerate([NO_WAV, YES_WAV, YES_WAV], 1):
        shutil.copy(source, answers / f"{i:02d}.wav")
    out = tmp_path / "new" / "out"
    env = environment(tmp_path, model=True)
    proc = subprocess.run(["sh", "-c", f"umask 000; exec {sys.executable} -m kiosk replay {answers} --out {out} "
                                       "--store"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    written = [out, *out.rglob("*"), tmp_path / "s.db"]
    assert {p.name for p in written} >= {"out", "outcome.json", "transcript.jsonl", "kiosk_speech.wav", "speech",
                                         "001.wav", "s.db"}
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is mode {mode:o}"
