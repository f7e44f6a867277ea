"""The naive Whisper baseline: transcribe freely, then look for a phrase of the grammar in the text.

This is what the grammar-scoring engine (kiosk.asr.whisper_engine) is compared against in the benchmark;
the kiosk itself never uses it. Matching is deliberately simple: NFKC, punctuation and spaces removed, then
the transcript must equal a phrase, or contain phrases of exactly one answer (the longest wins).
"""

from __future__ import annotations

import math
import time
import unicodedata
from typing import TYPE_CHECKING

import numpy as np

from kiosk.asr.base import UNKNOWN, Grammar, Recognition
from kiosk.audio.chunk import AudioChunk
from kiosk.errors import AudioError

if TYPE_CHECKING:
    from kiosk.asr.whisper_engine import WhisperRecognizer


def normalise(text: str) -> str:
    """NFKC, without punctuation, symbols or spaces: 「はい、あります。」 → はいあります."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PS")


def match(transcript: str, grammar: Grammar) -> tuple[str, str]:
    """(answer, phrase text) for a transcript: an exact phrase, else the longest phrase inside it."""
    heard = normalise(transcript)
    if not heard:
        return UNKNOWN, ""
    for phrase in grammar.phrases:
        if normalise(phrase.text) == heard:
            return phrase.answer, phrase.text
    inside = [p for p in grammar.phrases if normalise(p.text) and normalise(p.text) in heard]
    if not inside:
        return UNKNOWN, ""
    longest = max(len(normalise(p.text)) for p in inside)
    best = [p for p in inside if len(normalise(p.text)) == longest]
    if len({p.answer for p in best}) != 1:  # e.g. a transcript holding both はい and いいえ
        return UNKNOWN, ""
    return best[0].answer, best[0].text


class WhisperTranscribeRecognizer:
    """Free transcription (language ja, beam 5, no timestamps) + text matching, sharing a loaded model."""

    name = "whisper-transcribe"

    def __init__(self, engine: WhisperRecognizer, understanding: object | None = None) -> None:
        # `understanding` (the kiosk's typed-answer matcher) is accepted for the benchmark's calling
        # convention but not used: the baseline must stay the naive method it is named for.
        self.engine = engine

    def stream(self, grammar: Grammar) -> TranscribeStream:
        return TranscribeStream(self, grammar)

    def transcribe(self, samples: np.ndarray) -> tuple[str, float]:
        """The free transcript and exp(mean token log-probability) of its segments."""
        segments, _ = self.engine.model.transcribe(
            samples, language="ja", task="transcribe", beam_size=5, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False)
        parts = list(segments)
        text = "".join(s.text for s in parts)
        logprob = sum(s.avg_logprob for s in parts) / len(parts) if parts else -math.inf
        return text, math.exp(logprob)


class TranscribeStream:
    """One utterance for the baseline: buffer, then transcribe on finish()."""

    def __init__(self, owner: WhisperTranscribeRecognizer, grammar: Grammar) -> None:
        self._owner = owner
        self._grammar = grammar
        self._parts: list[bytes] = []
        self.decode_seconds = 0.0
        self.transcript = ""

    def feed(self, chunk: AudioChunk) -> None:
        if not chunk.is_canonical:
            raise AudioError(f"the Whisper baseline needs 16 kHz mono 16-bit audio, got {chunk.rate} Hz, "
                             f"{chunk.channels} channel(s), {chunk.width * 8} bits; "
                             "convert it with kiosk.audio.resample")
        self._parts.append(chunk.audio)

    def finish(self) -> Recognition:
        started = time.perf_counter()
        samples = np.frombuffer(b"".join(self._parts), dtype="<i2").astype(np.float32) / 32768.0
        self.transcript, confidence = self._owner.transcribe(samples) if len(samples) else ("", 0.0)
        answer, text = match(self.transcript, self._grammar)
        self.decode_seconds = time.perf_counter() - started
        return Recognition(answer, text or self.transcript, confidence if answer != UNKNOWN else 0.0)
