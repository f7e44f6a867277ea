"""Render Japanese text to canonical PCM (16 kHz mono 16-bit) with Open JTalk's mei voice, for elderly listeners."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soxr

from kiosk.audio.chunk import RATE, AudioChunk
from kiosk.errors import AudioError
from kiosk.tts import pyopenjtalk

DEFAULT_SPEED = 0.55
"""Open JTalk speed factor for elderly listeners: typical prompts measured 4.5 mora/s including the phrase
pauses (5.2 mora/s of pure speech); the voice's own 1.0 speaks 7.9 mora/s."""
DEFAULT_PAUSE = 0.6
"""Seconds of silence at each phrase boundary (、。！？): older listeners need time to follow."""
PEAK = 0.89
"""Output peak as a fraction of full scale (about -1 dBFS): the raw voice can exceed 16-bit range."""

_BOUNDARY = re.compile(r"(?<=[、。！？!?])")
_SPEECH_ONLY = re.compile(r"[\s、。！？!?「」『』（）()…・]+")
# Silence threshold for trimming a piece, relative to its own peak; keeps soft word endings.
_TRIM_LEVEL = 0.01
_TRIM_MARGIN = 0.03


def split_phrases(text: str) -> list[str]:
    """Split text after each 、。！？ (the mark stays with its phrase, so questions keep their intonation)."""
    return [piece.strip() for piece in _BOUNDARY.split(text) if _SPEECH_ONLY.sub("", piece)]


def to_pcm(samples: npt.NDArray[np.float64]) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM bytes."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def trim(samples: npt.NDArray[np.float64], rate: int) -> npt.NDArray[np.float64]:
    """Cut leading and trailing silence, keeping a short margin so consonants are not clipped."""
    level = np.abs(samples)
    loud = np.nonzero(level > _TRIM_LEVEL * float(level.max(initial=0.0)))[0]
    if loud.size == 0:
        return samples[:0]
    margin = int(_TRIM_MARGIN * rate)
    return samples[max(0, int(loud[0]) - margin) : int(loud[-1]) + margin]


@dataclass(frozen=True)
class OpenJTalkRenderer:
    """Japanese text -> canonical PCM bytes, phrase by phrase, with pauses between phrases."""

    speed: float = DEFAULT_SPEED
    half_tone: float = 0.0
    pause: float = DEFAULT_PAUSE
    edge: float = 0.1
    """Seconds of silence before the first and after the last phrase."""

    def render(self, text: str) -> bytes:
        """Speak `text` as 16 kHz mono 16-bit PCM bytes."""
        return to_pcm(self.render_samples(text))

    def render_chunk(self, text: str) -> AudioChunk:
        """Speak `text` as a canonical AudioChunk."""
        return AudioChunk(RATE, 2, 1, self.render(text))

    def render_samples(self, text: str) -> npt.NDArray[np.float64]:
        """Speak `text` as float samples at 16 kHz, peak-normalised to PEAK."""
        pieces = [self.phrase_samples(p) for p in split_phrases(text)]
        pieces = [p for p in pieces if p.size]
        if not pieces:
            raise AudioError(f"nothing to say in {text!r}: give text with at least one Japanese word")
        gap = np.zeros(int(round(self.pause * RATE)))
        edge = np.zeros(int(round(self.edge * RATE)))
        joined: list[npt.NDArray[np.float64]] = [edge]
        for index, piece in enumerate(pieces):
            if index:
                joined.append(gap)
            joined.append(piece)
        joined.append(edge)
        audio = np.concatenate(joined)
        return audio * (PEAK / float(np.abs(audio).max()))

    def phrase_samples(self, phrase: str) -> npt.NDArray[np.float64]:
        """One phrase without surrounding silence, at 16 kHz, in the voice's raw scale (not normalised)."""
        wave, rate = pyopenjtalk().tts(phrase, speed=self.speed, half_tone=self.half_tone)
        samples = np.asarray(wave, dtype=np.float64) / 32768.0
        resampled = np.asarray(soxr.resample(samples, int(rate), RATE, quality="HQ"), dtype=np.float64)
        return trim(resampled, RATE)
