"""Replay sources: ordered answer files, and answers keyed by question that survive the kiosk asking again."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from kiosk.audio.sources import FileSource
from kiosk.cli.replay import answer_source
from kiosk.errors import AudioError


def wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x01\x00" * 1600)
    return path


def test_keyed_answers_are_reused_when_a_question_is_asked_again(tmp_path: Path) -> None:
    a, b, c = wav(tmp_path / "a.wav"), wav(tmp_path / "b.wav"), wav(tmp_path / "c.wav")
    source = FileSource([c], {"stroke_limb": [a, b]})
    for _ in range(4):
        assert source.next_answer("stroke_limb") is not None
    assert source.used == [a, b, b, b]
    assert source.next_answer("place") is not None and source.used[-1] == c  # unkeyed: the ordered list
    assert source.next_answer("side") is None


def test_manifest_forms(tmp_path: Path) -> None:
    wav(tmp_path / "no.wav")
    wav(tmp_path / "yes.wav")
    (tmp_path / "list.txt").write_text("# comment\nno.wav\nyes.wav\n", encoding="utf-8")
    assert [p.name for p in answer_source(tmp_path / "list.txt")[0]] == ["no.wav", "yes.wav"]
    (tmp_path / "m.json").write_text(json.dumps({"by_question": {"stroke_limb": "no.wav",
                                                                 "stroke_face": ["no.wav", "yes.wav"]}}))
    files, keyed = answer_source(tmp_path / "m.json")
    assert files == [] and [p.name for p in keyed["stroke_face"]] == ["no.wav", "yes.wav"]
    assert [p.name for p in answer_source(tmp_path)[0]] == ["no.wav", "yes.wav"]


@pytest.mark.parametrize(("body", "problem"), [
    ("{", "not valid JSON"), ('{"by_question": {"q": 3}}', "WAV path"), ('{"by_question": []}', "map question"),
    ("{}", "lists no answer files"),
])
def test_bad_manifests_are_explained(tmp_path: Path, body: str, problem: str) -> None:
    (tmp_path / "m.json").write_text(body, encoding="utf-8")
    with pytest.raises(AudioError, match=problem):
        answer_source(tmp_path / "m.json")


class FakeClock:
    """Time that passes only when slept (the clock is a device-like fake)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_realtime_replay_hands_out_audio_at_a_microphones_pace(tmp_path: Path) -> None:
    # Latency measured on a replay means what it means live only when the audio arrives as a microphone's would.
    clock = FakeClock()
    source = FileSource([wav(tmp_path / "a.wav")], realtime=True, monotonic=clock.monotonic, sleep=clock.sleep)
    chunks = source.next_answer("x")
    assert chunks is not None
    heard = 0.0
    for chunk in chunks:
        heard += chunk.seconds
        assert clock.now - 100.0 == pytest.approx(heard), "each chunk once its last sample would be captured"
    assert heard == pytest.approx(0.1)
    fast = FileSource([wav(tmp_path / "b.wav")], monotonic=clock.monotonic, sleep=clock.sleep).next_answer("x")
    assert fast is not None and sum(c.seconds for c in fast) == pytest.approx(0.1)
    assert clock.now - 100.0 == pytest.approx(0.1), "without realtime nothing waits"
