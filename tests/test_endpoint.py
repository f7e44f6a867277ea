"""The endpointer on real speech (espeak-ng clips in tests/audio/endpoint/) and synthetic silence/noise."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.audio.chunk import RATE, AudioChunk
from kiosk.audio.endpoint import (
    EndOfSpeech,
    Endpointer,
    EndpointSettings,
    Event,
    MaxLength,
    NoInput,
    SpeechStarted,
    State,
)
from kiosk.audio.wav import read_wav, wav_to_chunks, write_wav
from kiosk.errors import AudioError, SettingsError

CLIPS = Path(__file__).parent / "audio" / "endpoint"
FRAME = 0.03


def clip(name: str) -> bytes:
    return read_wav(CLIPS / f"{name}.wav").audio


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))


def noise(seconds: float, dbfs: float, seed: int = 0) -> bytes:
    rms = 32768 * 10 ** (dbfs / 20)
    samples = np.random.default_rng(seed).standard_normal(round(seconds * RATE)) * rms
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def voiced_span(pcm: bytes) -> tuple[float, float]:
    """(first, last) second where the clip is audibly non-silent, measured independently of the VAD."""
    samples = np.abs(np.frombuffer(pcm, dtype="<i2"))
    loud = np.flatnonzero(samples > 500)
    return loud[0] / RATE, loud[-1] / RATE


def chunks(pcm: bytes, seconds: float = FRAME) -> Iterable[AudioChunk]:
    step = 2 * max(1, round(seconds * RATE))
    for i in range(0, len(pcm), step):
        yield AudioChunk(RATE, 2, 1, pcm[i : i + step])


def run(
    pcm: bytes,
    settings: EndpointSettings | None = None,
    chunk_seconds: float = FRAME,
    endpointer: Endpointer | None = None,
) -> list[Event]:
    ep = endpointer or Endpointer(settings)
    events: list[Event] = []
    for chunk in chunks(pcm, chunk_seconds):
        events += ep.process(chunk)
    return events


def test_a_short_answer_starts_and_ends_where_the_speech_is() -> None:
    hai = clip("はい")
    first, last = voiced_span(hai)
    events = run(silence(1.0) + hai + silence(3.0))
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]
    started, ended = events
    assert isinstance(started, SpeechStarted) and isinstance(ended, EndOfSpeech)
    assert started.time == pytest.approx(1.0 + first, abs=0.09)
    assert started.detected_time - started.time == pytest.approx(0.12, abs=0.07)  # hysteresis
    assert ended.speech_end_time == pytest.approx(1.0 + last, abs=0.09)
    assert ended.detected_time - ended.speech_end_time == pytest.approx(1.2, abs=FRAME)


def test_the_utterance_keeps_the_whole_answer_with_pre_roll() -> None:
    hai = clip("はい")
    ep = Endpointer()
    events = run(silence(1.0) + hai + silence(3.0), endpointer=ep)
    started = events[0]
    assert isinstance(started, SpeechStarted)
    audio = ep.utterance.audio
    assert hai in audio
    assert audio.index(hai) / 2 / RATE >= 0.25  # at least ~0.3 s of pre-roll before the voice
    utterance_start = ep.time - len(audio) / 2 / RATE
    assert started.time - utterance_start == pytest.approx(0.3, abs=0.001)


def test_a_pause_shorter_than_the_trailing_silence_keeps_one_utterance() -> None:
    hai, iie = clip("はい"), clip("いいえ")
    events = run(silence(0.5) + hai + silence(0.8) + iie + silence(2.0))
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]
    end = events[1]
    assert isinstance(end, EndOfSpeech)
    assert end.speech_end_time > 0.5 + len(hai) / 2 / RATE + 0.8


def test_a_pause_longer_than_the_trailing_silence_ends_the_utterance() -> None:
    hai = clip("はい")
    events = run(silence(0.5) + hai + silence(1.6) + clip("いいえ") + silence(2.0))
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]  # DONE: later audio is ignored
    end = events[1]
    assert isinstance(end, EndOfSpeech) and end.speech_end_time < 0.5 + len(hai) / 2 / RATE


def test_silence_gives_no_input_at_exactly_the_timeout() -> None:
    assert run(silence(20.0)) == [NoInput(8.01)]  # the first 30 ms frame boundary at or after 8 s


@pytest.mark.parametrize("dbfs", [-70.0, -60.0])
def test_faint_noise_is_not_speech(dbfs: float) -> None:
    events = run(noise(10.0, dbfs))
    assert [type(e) for e in events] == [NoInput]


def test_a_click_is_not_speech() -> None:
    pcm = silence(2.0) + noise(0.03, -6.0) + silence(7.0)
    assert [type(e) for e in run(pcm)] == [NoInput]


def test_speech_after_a_click_is_still_found() -> None:
    pcm = silence(1.0) + noise(0.03, -6.0) + silence(1.0) + clip("はい") + silence(2.0)
    events = run(pcm)
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]
    assert events[0].time > 2.0  # type: ignore[union-attr]


def long_speech(seconds: float) -> bytes:
    pieces = [clip("ひざが_いたいです"), clip("わかりません"), clip("はい"), clip("いいえ")]
    pcm = b""
    while len(pcm) < seconds * RATE * 2:
        pcm += pieces[len(pcm) % 4] + silence(0.2)
    return pcm


def test_endless_speech_is_cut_at_max_utterance() -> None:
    events = run(silence(0.5) + long_speech(15.0) + silence(2.0))
    assert [type(e) for e in events] == [SpeechStarted, MaxLength]
    started, cut = events
    assert isinstance(started, SpeechStarted) and isinstance(cut, MaxLength)
    assert cut.time - started.time == pytest.approx(10.0, abs=FRAME)
    assert cut.speech_start_time == started.time


def test_time_limits_can_be_turned_off() -> None:
    off = EndpointSettings(no_input=None, max_utterance=None)
    assert run(silence(60.0), off) == []
    events = run(silence(0.5) + long_speech(15.0) + silence(2.0), off)
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]


def test_every_timer_can_be_made_ten_times_longer() -> None:
    slow = EndpointSettings().scaled(10)
    assert (slow.trailing_silence, slow.no_input, slow.max_utterance) == pytest.approx((12.0, 80.0, 100.0))
    events = run(silence(0.5) + clip("はい") + silence(11.0) + clip("いいえ") + silence(13.0), slow)
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]
    end = events[1]
    assert isinstance(end, EndOfSpeech) and end.speech_end_time > 11.5


@pytest.mark.parametrize("chunk_seconds", [0.01, 0.03, 0.047, 0.5, 100.0])
def test_events_do_not_depend_on_chunk_size(chunk_seconds: float) -> None:
    pcm = silence(1.0) + clip("わかりません") + silence(2.0)
    assert run(pcm, chunk_seconds=chunk_seconds) == run(pcm)


def test_a_wav_file_gives_the_same_events_as_the_samples(tmp_path: Path) -> None:
    pcm = silence(1.0) + clip("はい") + silence(2.0)
    write_wav(tmp_path / "answer.wav", pcm)
    ep = Endpointer()
    events = [e for c in wav_to_chunks(tmp_path / "answer.wav") for e in ep.process(c)]
    assert events == run(pcm)


def test_drained_pieces_join_into_the_utterance() -> None:
    ep = Endpointer()
    drained = b""
    for chunk in chunks(silence(1.0) + clip("はい") + silence(2.0)):
        ep.feed(chunk)
        piece = ep.drain()
        if piece is not None:
            drained += piece.audio
    assert drained == ep.utterance.audio and drained
    assert ep.drain() is None


def test_feed_returns_the_end_event_then_nothing_until_reset() -> None:
    ep = Endpointer()
    whole = AudioChunk(RATE, 2, 1, silence(1.0) + clip("はい") + silence(2.0))
    assert isinstance(ep.feed(whole), EndOfSpeech)  # both events happened; the end one is returned
    assert ep.state is State.DONE
    assert ep.feed(whole) is None
    ep.reset()
    assert not ep.done and ep.time == 0.0 and ep.utterance.audio == b""
    assert isinstance(ep.feed(whole), EndOfSpeech)


def test_end_of_input_closes_the_utterance_or_reports_no_input() -> None:
    ep = Endpointer()
    run(silence(0.5) + clip("はい"), endpointer=ep)
    assert ep.state is State.SPEAKING
    assert isinstance(ep.end_of_input(), EndOfSpeech)
    quiet = Endpointer()
    run(silence(1.0), endpointer=quiet)
    assert quiet.end_of_input() == NoInput(pytest.approx(0.99))  # type: ignore[arg-type]
    assert quiet.end_of_input() is None


def test_non_canonical_audio_is_refused() -> None:
    with pytest.raises(AudioError, match="16 kHz mono"):
        Endpointer().feed(AudioChunk(44100, 2, 2, bytes(400)))


@pytest.mark.parametrize(
    "bad",
    [
        {"trailing_silence": 0},
        {"no_input": -1.0},
        {"max_utterance": 0.0},
        {"pre_roll": -0.1},
        {"speech_start": 0.5, "start_window": 0.3},
    ],
)
def test_nonsense_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        EndpointSettings(**bad)


def test_vad_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="0..3"):
        Endpointer(EndpointSettings(vad_mode=5))


def test_speech_is_found_in_steady_background_noise() -> None:
    speech = np.frombuffer(silence(1.0) + clip("はい") + silence(3.0), dtype="<i2").astype(np.int32)
    hiss = np.frombuffer(noise(len(speech) / RATE, -40.0), dtype="<i2").astype(np.int32)
    mixed = np.clip(speech + hiss, -32768, 32767).astype("<i2").tobytes()
    events = run(mixed)
    assert [type(e) for e in events] == [SpeechStarted, EndOfSpeech]
    assert events[0].time == pytest.approx(1.0 + voiced_span(clip("はい"))[0], abs=0.09)  # type: ignore[union-attr]
