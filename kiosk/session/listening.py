"""Listening for one answer: chunks → endpointer → recognizer stream, the same for microphone and files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kiosk.asr.base import Grammar, Recognition, Recognizer, RecognizerStream, SpeculativeStream
from kiosk.audio.chunk import AudioChunk
from kiosk.audio.endpoint import EndOfSpeech, Endpointer, MaxLength, NoInput, SpeechStarted, State
from kiosk.clock import Clock

SPECULATE_AFTER = 0.35
"""Silence after speech (s) before a speculative engine starts deciding: longer than most gaps inside a
word or between the words of a short answer, and well inside the endpointer's 1.2 s trailing silence,
which is the time won."""


@dataclass(frozen=True)
class Listened:
    """One listening turn: the result (None: nothing was said), the audio, and where the time went."""

    recognition: Recognition | None
    audio: AudioChunk | None
    speech_end: float | None
    """Audio time the person stopped speaking."""
    endpoint: float | None
    """Audio time the endpointer decided the answer was over."""
    decide_seconds: float
    """Wall time from the endpoint to the recognizer's final result."""
    decided_early: bool = False
    """The engine started deciding during the trailing silence (SpeculativeStream) and that decision stood."""


def listen(chunks: Iterator[AudioChunk], endpointer: Endpointer, recognizer: Recognizer, grammar: Grammar,
           clock: Clock) -> Listened:
    """Listen until end of speech, no input, or the end of the chunks; decodes while the person speaks."""
    endpointer.reset()
    stream: RecognizerStream | None = None
    paused_for: float | None = None  # the speech end a SpeculativeStream was told is a pause
    end_event: EndOfSpeech | MaxLength | NoInput | None = None
    for chunk in chunks:
        for event in endpointer.process(chunk):
            if isinstance(event, SpeechStarted):
                stream = recognizer.stream(grammar)
            elif isinstance(event, (EndOfSpeech, MaxLength, NoInput)):
                end_event = event
        if stream is not None:
            _feed(stream, endpointer)
            paused_for = _speculate(stream, endpointer, paused_for)
        if endpointer.done:
            break
    else:
        last = endpointer.end_of_input()
        if isinstance(last, (EndOfSpeech, NoInput)):
            end_event = last
        if stream is not None:
            _feed(stream, endpointer)
    if stream is None or isinstance(end_event, NoInput):
        return Listened(None, None, None, endpointer.time, 0.0)
    started = clock.monotonic()
    result = stream.finish()  # final result only: partial results cause false accepts
    decided = clock.monotonic() - started
    speech_end = end_event.speech_end_time if isinstance(end_event, EndOfSpeech) else endpointer.time
    return Listened(result, endpointer.utterance, speech_end, endpointer.time, decided,
                    bool(getattr(stream, "decided_early", False)))


def _speculate(stream: RecognizerStream, endpointer: Endpointer, paused_for: float | None) -> float | None:
    """Tell a speculative stream when the person has paused, and when they went on speaking."""
    if not isinstance(stream, SpeculativeStream):
        return None
    last_voiced = endpointer.last_voiced_end
    if paused_for is not None and last_voiced != paused_for:
        stream.resume()
        paused_for = None
    if paused_for is None and endpointer.state is State.SPEAKING and endpointer.time - last_voiced >= SPECULATE_AFTER:
        stream.pause()
        paused_for = last_voiced
    return paused_for


def _feed(stream: RecognizerStream, endpointer: Endpointer) -> None:
    piece = endpointer.drain()
    if piece is not None:
        stream.feed(piece)
