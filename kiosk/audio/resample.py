"""Resampling and channel mixing into the canonical format (16 kHz mono s16le), in streaming pieces."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.audio.chunk import RATE
from kiosk.errors import AudioError

Floats = npt.NDArray[np.float32]

MIN_RATE = 4_000
MAX_RATE = 768_000
"""Sample rates outside this range are not audio a kiosk can meet; they mean a corrupt header."""


def mix_to_mono(frames: Floats) -> Floats:
    """Average the channels of `frames` (shape: samples × channels).

    Averaging rather than summing keeps the level in range; a stereo microphone with one dead side
    loses 6 dB, which the recognizers tolerate far better than clipping.
    """
    if frames.ndim == 1:
        return frames
    if frames.shape[1] == 1:
        return frames[:, 0]
    mono: Floats = frames.mean(axis=1, dtype=np.float32)
    return mono


def float_to_s16(samples: Floats) -> bytes:
    """Float samples in -1..1 as 16-bit little-endian PCM; out-of-range values are clipped, not wrapped."""
    scaled = np.clip(np.rint(samples * 32768.0), -32768, 32767)
    return bytes(scaled.astype("<i2").tobytes())


def check_rate(rate: int, source: str, fix: str = "use audio recorded at 16000 Hz") -> None:
    """Reject sample rates no real audio has, before they reach the resampler."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            f"{source} has a sample rate of {rate} Hz, which the kiosk cannot use "
            f"({MIN_RATE}..{MAX_RATE} Hz); {fix}"
        )


class Converter:
    """Turns float frames of any rate and channel count into canonical PCM, one piece at a time.

    The resampler keeps its filter state between pieces, so a long file or a live microphone converts
    in bounded memory with no clicks at piece boundaries.
    """

    def __init__(self, in_rate: int, source: str = "audio") -> None:
        check_rate(in_rate, source)
        self.in_rate = in_rate
        self._stream: Any = None
        if in_rate != RATE:
            import soxr  # lazy: the rest of the kiosk imports without the resampler

            self._stream = soxr.ResampleStream(in_rate, RATE, 1, dtype="float32", quality="HQ")

    def convert(self, frames: Floats, last: bool = False) -> bytes:
        """Mix `frames` to mono, resample to 16 kHz and encode; `last=True` flushes the filter's tail."""
        mono = np.ascontiguousarray(mix_to_mono(frames), dtype=np.float32)
        if self._stream is None:
            return float_to_s16(mono)
        out: Floats = self._stream.resample_chunk(mono, last=last)
        return float_to_s16(out)
