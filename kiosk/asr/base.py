"""The recognizer interface shared by the Vosk and Whisper engines.

An engine is loaded once (models are big); for each question the dialog opens a stream with that
question's grammar, feeds it canonical audio chunks (16 kHz mono s16le) as they arrive, and asks for the
final result once the endpointer says the person has stopped speaking.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kiosk.audio.chunk import AudioChunk
from kiosk.content.phrases import UNKNOWN, Grammar, Phrase, Recognition

__all__ = ["UNKNOWN", "Grammar", "Phrase", "Recognition", "Recognizer", "RecognizerStream", "SpeculativeStream",
           "prepare"]

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
