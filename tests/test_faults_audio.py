"""Bad and unusual audio files at the command line: `kiosk recognize` and `kiosk replay` convert what can
be converted, report each file that cannot be used with a clear message, go on with the others, and never
print a traceback. (The WAV reader itself is tested in tests/test_wav.py.)

Real parts: the commands run as subprocesses with the real Vosk engine on the Korean PyPI model and the
Korean test grammar (tests/data/ko/answers.yaml, chosen with KIOSK_GRAMMAR), on a real recorded answer
(tests/audio/ko/yes__네.wav) written out in every common WAV encoding.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soxr

from kiosk.audio.wav import read_wav
from tests.model_paths import korean_model_dir

ROOT = Path(__file__).resolve().parents[1]
KO_GRAMMAR = ROOT / "tests" / "data" / "ko" / "answers.yaml"
YES_WAV = ROOT / "tests" / "audio" / "ko" / "yes__네.wav"
NO_WAV = ROOT / "tests" / "audio" / "ko" / "no__아니요.wav"

pytestmark = pytest.mark.vosk



def kiosk(*args: str, tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "KIOSK_CONFIG": "", "KIOSK_DB": str(tmp / "s.db"),
               "KIOSK_VOSK_MODEL": str(korean_model_dir()), "KIOSK_GRAMMAR": str(KO_GRAMMAR), **env}
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True,
                          encoding="utf-8", env=environ, cwd=ROOT, timeout=180)


# --- every common WAV encoding of one recorded answer ---

def answer_samples(path: Path = YES_WAV, rate: int = 16000, pad: float = 0.5) -> np.ndarray:
    """The answer as float samples at `rate`, with `pad` seconds of silence before and after."""
    pcm = np.frombuffer(read_wav(path).audio, dtype="<i2").astype(np.float32) / 32768
    if rate != 16000:
        pcm = soxr.resample(pcm, 16000, rate).astype(np.float32)
    # A room's noise floor (about -70 dBFS), not digital zeros: after tens of seconds of exact zeros Vosk's
    # online feature adaptation misses a following word (a file-only artefact; microphones are never zero).
    floor = np.random.default_rng(0).normal(0.0, 3e-4, int(rate * pad)).astype(np.float32)
    return np.concatenate([floor, pcm, floor])


def encode(samples: np.ndarray, bits: int, floating: bool) -> bytes:
    """Interleaved frames (samples × channels) in -1..1 as little-endian WAV sample bytes."""
    flat = np.clip(samples.reshape(-1), -1.0, 1.0)
    if floating:
        return flat.astype("<f4" if bits == 32 else "<f8").tobytes()
    if bits == 8:
        return (np.round(flat * 127) + 128).astype(np.uint8).tobytes()
    if bits == 24:
        ints = np.round(flat * (2**23 - 1)).astype("<i4")
        return ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    dtype, scale = ("<i2", 2**15 - 1) if bits == 16 else ("<i4", 2**31 - 1)
    return np.round(flat.astype(np.float64) * scale).astype(dtype).tobytes()


def write_variant(path: Path, rate: int = 16000, channels: int = 1, bits: int = 16, floating: bool = False,
                  extensible: bool = False, seconds_before: float = 0.5, source: Path = YES_WAV) -> Path:
    mono = answer_samples(source, rate, seconds_before)
    frames = np.repeat(mono[:, None], channels, axis=1)
    if channels == 2:
        frames[:, 1] *= 0.5  # a quieter second channel, as from a second microphone
    data = encode(frames, bits, floating)
    align = channels * bits // 8
    code = 3 if floating else 1
    if extensible:
        guid = struct.pack("<H", code) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * align, align, bits, 22, bits, 0) + guid
    else:
        fmt = struct.pack("<HHIIHH", code, channels, rate, rate * align, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


GOOD = {
    "8k.wav": {"rate": 8000},
    "22k.wav": {"rate": 22050},
    "44k.wav": {"rate": 44100},
    "48k_stereo.wav": {"rate": 48000, "channels": 2},
    "8bit.wav": {"bits": 8},
    "24bit.wav": {"bits": 24},
    "24bit_extensible_48k.wav": {"bits": 24, "rate": 48000, "extensible": True},
    "32bit_int.wav": {"bits": 32},
    "32bit_float_44k_stereo.wav": {"bits": 32, "floating": True, "rate": 44100, "channels": 2},
    "64bit_float.wav": {"bits": 64, "floating": True},
    "long_90s.wav": {"seconds_before": 45.0},
}


def bad_files(folder: Path) -> dict[str, str]:
    """Files that cannot be used, by name, with what the message must say."""
    good = write_variant(folder / "template.wav")
    raw = good.read_bytes()
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.wav").write_text("はい、と答えた。\n", encoding="utf-8")
    (folder / "song.wav").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(2000))
    (folder / "cut_in_header.wav").write_bytes(raw[:30])
    corrupt = bytearray(raw)
    corrupt[20:22] = struct.pack("<H", 0x55)  # the format code of the fmt chunk turned into MP3
    (folder / "corrupt.wav").write_bytes(bytes(corrupt))
    (folder / "header_only.wav").write_bytes(raw[:44])
    good.unlink()
    return {
        "empty.wav": "is empty (0 bytes)",
        "notes.wav": "is not a WAV file",
        "song.wav": "looks like MP3",
        "cut_in_header.wav": "damaged header",
        "corrupt.wav": "MP3 WAV, which the kiosk cannot decode",
        "header_only.wav": "contains no audio samples",
        "missing.wav": "cannot be read",
    }


def lines(stdout: str) -> dict[str, dict[str, Any]]:
    return {Path(row["file"]).name: row for row in map(json.loads, stdout.splitlines())}


def test_recognize_converts_every_encoding_and_reports_each_bad_file(tmp_path: Path) -> None:
    for name, options in GOOD.items():
        write_variant(tmp_path / name, **options)
    truncated = write_variant(tmp_path / "truncated.wav")
    truncated.write_bytes(truncated.read_bytes()[:-4000])  # a recording cut off: what is there is used
    expected_errors = bad_files(tmp_path)
    names = [*GOOD, "truncated.wav", *expected_errors]
    proc = kiosk("recognize", *(str(tmp_path / n) for n in names), "--answers", "yes,no", tmp=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, "a bad file makes the exit code non-zero"
    rows = lines(proc.stdout)
    assert list(rows) == names, "one line per file, in order, the bad ones too"
    for name in [*GOOD, "truncated.wav"]:
        assert rows[name].get("answer") == "yes", (name, rows[name])
    assert "cut short" in proc.stderr and "truncated.wav" in proc.stderr  # a warning, not an error
    for name, message in expected_errors.items():
        error = rows[name]["error"]
        assert name in error and message in error, (name, error)
        assert "sox" in error or "record it again" in error or "check the path" in error, error


def test_replay_skips_a_bad_answer_file_reports_it_and_goes_on(tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "01.wav").write_bytes(b"ID3\x04" + bytes(500))  # the first answer is an MP3
    write_variant(answers / "02.wav", rate=48000, channels=2, bits=24)  # 네: a stroke sign
    write_variant(answers / "03.wav", rate=44100, bits=32, floating=True)  # 네: "understood" to the prompt
    out = tmp_path / "out"
    proc = kiosk("replay", str(answers), "--out", str(out), tmp=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "01.wav" in proc.stderr and "looks like MP3" in proc.stderr, "the bad file is named in the log"
    events = [json.loads(x) for x in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1 and "01.wav" in errors[0]["message"] and "sox" in errors[0]["message"]
    heard = [e for e in events if e["type"] == "heard"]
    assert heard[0]["id"] == "stroke_limb" and heard[0]["answer"] == "yes"
    result = json.loads((out / "outcome.json").read_text(encoding="utf-8"))
    assert result["completed"] and result["outcome"]["level"] == "emergency"
    assert [Path(p).name for p in result["files_used"]] == ["02.wav", "03.wav"]
    if "files_skipped" in result:  # once cmd_replay reports skipped files (see the report to the lead)
        assert [Path(s["file"]).name for s in result["files_skipped"]] == ["01.wav"]
        assert proc.returncode == 1, "a bad answer file makes the replay's exit code non-zero"


def test_replay_of_a_very_long_silent_answer_is_no_input_not_a_hang(tmp_path: Path) -> None:
    # Five minutes of silence: the endpointer gives up after the no-input time and stops reading, so
    # the file costs seconds, not minutes; the next file then answers the question asked again.
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "01.wav").write_bytes(_silence_wav(300))
    write_variant(answers / "02.wav")
    write_variant(answers / "03.wav")
    out = tmp_path / "out"
    proc = kiosk("replay", str(answers), "--out", str(out), tmp=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    events = [json.loads(x) for x in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    asks = [e for e in events if e["type"] == "ask" and e["id"] == "stroke_limb"]
    assert [a["attempt"] for a in asks] == [1, 2], "nothing was heard in the long file: asked again"
    assert events[-1]["type"] in ("say", "outcome")
    assert json.loads((out / "outcome.json").read_text(encoding="utf-8"))["outcome"]["level"] == "emergency"


def _silence_wav(seconds: int) -> bytes:
    data = bytes(2 * 16000 * seconds)
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "nowhere", "does not exist; give a folder of WAV files or a manifest file"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "has no .wav files"),
    (lambda p: (p / "list.json").write_text("{not json", encoding="utf-8") and p / "list.json",
     "is not valid JSON"),
], ids=["missing", "no-wavs", "bad-manifest"])
def test_replay_without_usable_answers_says_what_to_give(tmp_path: Path, make: Any, message: str) -> None:
    proc = kiosk("replay", str(make(tmp_path)), "--out", str(tmp_path / "out"), tmp=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message in proc.stderr, proc.stderr
