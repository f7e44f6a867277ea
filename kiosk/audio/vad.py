"""Voice activity: is one 30 ms frame of canonical audio speech?"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from kiosk.audio.chunk import RATE, WIDTH
from kiosk.errors import AudioError

FRAME_SECONDS = 0.03
FRAME_SAMPLES = round(FRAME_SECONDS * RATE)
FRAME_BYTES = FRAME_SAMPLES * WIDTH


class VoiceDetector(Protocol):
    """Decides speech / not speech for one frame of FRAME_BYTES canonical bytes."""

    def is_speech(self, frame: bytes) -> bool: ...


def level_dbfs(frame: bytes) -> float:
    """RMS level of 16-bit PCM relative to full scale (-inf for digital silence)."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(samples * samples)))
    return 20 * math.log10(rms / 32768.0) if rms > 0 else -math.inf


class SpeechDetector:
    """webrtcvad with an energy floor.

    webrtcvad judges the spectrum, not the loudness, so faint hiss or a distant voice can pass as
    speech; frames quieter than `min_level_dbfs` are treated as silence whatever it says.
    """

    def __init__(self, mode: int = 2, min_level_dbfs: float = -55.0) -> None:
        if mode not in (0, 1, 2, 3):
            raise ValueError(f"webrtcvad mode must be 0..3 (3 = strictest), got {mode}")
        try:
            import webrtcvad  # lazy: only the listening part of the kiosk needs it
        except ImportError:
            raise AudioError("webrtcvad missing: .venv/bin/pip install webrtcvad-wheels") from None
        self._vad: Any = webrtcvad.Vad(mode)
        self.mode = mode
        self.min_level_dbfs = min_level_dbfs

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"a VAD frame is {FRAME_BYTES} bytes (30 ms at 16 kHz), got {len(frame)}")
        if level_dbfs(frame) < self.min_level_dbfs:
            return False
        return bool(self._vad.is_speech(frame, RATE))
