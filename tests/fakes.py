"""Fakes for devices and clocks only (never for what a test claims to test); they record what happened."""

from __future__ import annotations


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_000.0, wall: float = 1_790_000_000.0) -> None:
        self.now = start
        self.wall_start = wall
        self.start = start

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall_start + (self.now - self.start)

    def advance(self, seconds: float) -> None:
        self.now += seconds
