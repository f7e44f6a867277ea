"""Listening for one answer: chunks → endpointer → recognizer stream, the same for microphone and files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kiosk.asr.base import Grammar, Recognition, Recognizer, RecognizerStream
from kiosk.audio.chunk import AudioChunk
from kiosk.audio.endpoint import EndOfSpeech, Endpointer, MaxLength, NoInput, SpeechStarted
from kiosk.clock import Clock


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


def listen(chunks: Iterator[AudioChunk], endpointer: Endpointer, recognizer: Recognizer, grammar: Grammar,
           clock: Clock) -> Listened:
    """Listen until end of speech, no input, or the end of the chunks; decodes while the person speaks."""
    endpointer.reset()
    stream: RecognizerStream | None = None
    end_event: EndOfSpeech | MaxLength | NoInput | None = None
    for chunk in chunks:
        for event in endpointer.process(chunk):
            if isinstance(event, SpeechStarted):
                stream = recognizer.stream(grammar)
            elif isinstance(event, (EndOfSpeech, MaxLength, NoInput)):
                end_event = event
        if stream is not None:
            _feed(stream, endpointer)
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
    return Listened(result, endpointer.utterance, speech_end, endpointer.time, decided)


def _feed(stream: RecognizerStream, endpointer: Endpointer) -> None:
    piece = endpointer.drain()
    if piece is not None:
        stream.feed(piece)
