"""The four urgency levels, lowest first (消防庁 colours: 白, 緑, 黄, 赤)."""

from __future__ import annotations

LEVELS = ("self_care", "consult", "urgent", "emergency")
SELF_CARE, CONSULT, URGENT, EMERGENCY = LEVELS


def rank(level: str) -> int:
    """Position of a level: self_care 0 … emergency 3."""
    return LEVELS.index(level)


def highest(levels: list[str] | tuple[str, ...]) -> str:
    return max(levels, key=rank, default=SELF_CARE)
