"""AudioChunk: a piece of PCM audio with its explicit format."""

from __future__ import annotations

from dataclasses import dataclass

RATE = 16_000
"""The one format used inside the kiosk: 16 kHz ..."""
WIDTH = 2
"""... 16-bit signed little-endian ..."""
CHANNELS = 1
"""... mono."""


@dataclass(frozen=True)
class AudioChunk:
    """Raw PCM bytes plus the format they are in."""

    rate: int
    width: int
    channels: int
    audio: bytes

    @property
    def samples(self) -> int:
        return len(self.audio) // (self.width * self.channels)

    @property
    def seconds(self) -> float:
        return self.samples / self.rate

    @property
    def is_canonical(self) -> bool:
        return (self.rate, self.width, self.channels) == (RATE, WIDTH, CHANNELS)
