"""The recognizer interface shared by the Vosk and Whisper engines.

An engine is loaded once (models are big); for each question the dialog opens a stream with that
question's grammar, feeds it canonical audio chunks (16 kHz mono s16le) as they arrive, and asks for the
final result once the endpointer says the person has stopped speaking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kiosk.audio.chunk import AudioChunk

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Phrase:
    """One way of saying an answer, as words of the recognizer vocabulary (e.g. ('わかり', 'ませ', 'ん'))."""

    answer: str
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        """The surface text as a person would write it (Japanese has no spaces)."""
        return "".join(self.words)


@dataclass(frozen=True)
class Grammar:
    """The phrases a question accepts; every phrase maps to a canonical answer value."""

    phrases: tuple[Phrase, ...]

    @property
    def answers(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for phrase in self.phrases:
            seen.setdefault(phrase.answer, None)
        return tuple(seen)


@dataclass(frozen=True)
class Recognition:
    """What an engine understood: a canonical answer value (or 'unknown'), the words, a confidence 0..1."""

    answer: str
    text: str
    confidence: float


class RecognizerStream(Protocol):
    """One utterance being recognised against one grammar."""

    def feed(self, chunk: AudioChunk) -> None:
        """Accept canonical audio (16 kHz, 16-bit, mono)."""

    def finish(self) -> Recognition:
        """End of speech: return the final result. Never acts on partial results."""


class Recognizer(Protocol):
    """A loaded engine."""

    name: str

    def stream(self, grammar: Grammar) -> RecognizerStream:
        """Open a stream for one utterance with the grammar of the current question."""


@runtime_checkable
class SpeculativeStream(Protocol):
    """A stream that can start deciding during the trailing silence, before the endpointer is sure.

    The endpointer waits 1.2 s of silence before it calls an answer finished (older speakers pause
    mid-answer); an engine that decodes only at the end (Whisper) can use that wait. `pause()`: the
    person has been silent a moment, everything fed so far may be the whole answer; `resume()`: they
    spoke again, forget it. finish() after a pause that was not resumed decides on the audio up to the
    pause, whether or not the early decision has completed, so the result never depends on timing.
    """

    def pause(self) -> None: ...

    def resume(self) -> None: ...


def prepare(recognizer: Recognizer, grammar: Grammar) -> None:
    """Let an engine do its per-grammar work now (e.g. while the question is being spoken), if it has any."""
    warm = getattr(recognizer, "prepare", None)
    if callable(warm):
        warm([grammar])
