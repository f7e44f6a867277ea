"""The naive baseline: transcribe freely, then look for the question's answer phrases in the text.

For Vosk this is the same loaded model decoding with its full language model (no grammar), and the words
(spaces removed) matched with the kiosk's own text understanding (kiosk.dialog.understanding, as for typed answers).
For Whisper the project's own baseline is used: bench.whisper_transcribe (free transcription, beam 5,
then the transcript must equal a phrase or contain phrases of exactly one answer).
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.asr.base import UNKNOWN, Grammar, Recognition
from kiosk.audio.chunk import RATE, AudioChunk


class VoskFreeStream:
    def __init__(self, owner: VoskFreeTranscription, grammar: Grammar) -> None:
        self._owner = owner
        self._answers = grammar.answers
        self._kaldi = owner.vosk.KaldiRecognizer(owner.model, RATE)  # no grammar: the full language model
        self._kaldi.SetWords(True)
        self._texts: list[str] = []

    def feed(self, chunk: AudioChunk) -> None:
        if self._kaldi.AcceptWaveform(chunk.audio):
            self._texts.append(json.loads(self._kaldi.Result()).get("text", ""))

    def finish(self) -> Recognition:
        self._texts.append(json.loads(self._kaldi.FinalResult()).get("text", ""))
        text = " ".join(t for t in self._texts if t)
        heard = self._owner.understanding.understand(text.replace(" ", ""), self._answers)
        return Recognition(heard.answer or UNKNOWN, text, 1.0 if heard.answer else 0.0)


class VoskFreeTranscription:
    """Free transcription with an already loaded VoskRecognizer's model, then text matching."""

    name = "vosk-free"

    def __init__(self, engine: Any, understanding: Any) -> None:
        self.vosk = engine._vosk
        self.model = engine._model
        self.understanding = understanding

    def stream(self, grammar: Grammar) -> VoskFreeStream:
        return VoskFreeStream(self, grammar)


def whisper_baseline(recognizer: Any, understanding: Any) -> Any:
    """The project's free-transcription Whisper baseline class (bench.whisper_transcribe), or None."""
    try:
        from bench.whisper_transcribe import WhisperTranscribeRecognizer
    except ImportError:
        return None
    return WhisperTranscribeRecognizer
