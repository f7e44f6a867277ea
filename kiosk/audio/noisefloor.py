"""Background noise level of the room, tracked frame by frame on audio time (minimum statistics).

Speech is never steady: within a few seconds it always drops back to the room's level between syllables
and words, while steady noise (fan, air conditioning, a waiting room's murmur) never drops below its own
level. So the quietest short-time level of the last few seconds is the noise floor, and it is learned
from the noise before, between and after words without having to know which frames are speech.
"""

from __future__ import annotations

import math
from collections import deque

SMOOTHING_FRAMES = 3
"""Levels are mean power over the last 3 frames (90 ms). Single 30 ms frames of pink noise scatter up to
~5.4 dB above the floor (white: ~2 dB); over 90 ms the scatter is ~3.4 dB (white ~1 dB), which leaves room
for a margin that still lets speech at 5 dB SNR through. Longer smoothing delays the end of speech."""


class NoiseFloor:
    """The minimum of the smoothed frame level over a sliding window of `window_frames` frames.

    O(1) amortised per frame: a monotonic queue keeps only the levels that can still become the minimum.
    Before the window has filled, the minimum of what has been heard so far is used: it starts at the
    first frame's level and can only fall, so steady noise is known after one frame. A person already
    talking at the first frame sets it from their voice until their first pause; SpeechDetector.hindsight
    makes up for that.
    """

    def __init__(self, window_frames: int, smoothing_frames: int = SMOOTHING_FRAMES) -> None:
        if window_frames < 1 or smoothing_frames < 1:
            raise ValueError("the noise floor needs a window and smoothing of at least one frame")
        self.window_frames = window_frames
        self.smoothing_frames = smoothing_frames
        self.reset()

    def reset(self) -> None:
        """Forget the room (a new question: nothing heard before should decide this answer)."""
        self._count = 0
        self._recent: deque[float] = deque(maxlen=self.smoothing_frames)
        self._minima: deque[tuple[int, float]] = deque()
        self.level = -math.inf
        """Smoothed level of the latest frames (dBFS)."""
        self.floor = -math.inf
        """Noise floor (dBFS); -inf before the first frame and in digital silence."""

    def update(self, level_dbfs: float) -> None:
        """Take one frame's level (dBFS, -inf for digital silence); updates `level` and `floor`."""
        self._recent.append(10.0 ** (level_dbfs / 10.0) if level_dbfs > -math.inf else 0.0)
        power = sum(self._recent) / len(self._recent)  # re-summed, not a running total: no drift
        self.level = 10.0 * math.log10(power) if power > 0.0 else -math.inf
        while self._minima and self._minima[-1][1] >= self.level:
            self._minima.pop()
        self._minima.append((self._count, self.level))
        if self._minima[0][0] <= self._count - self.window_frames:
            self._minima.popleft()
        self._count += 1
        self.floor = self._minima[0][1]
