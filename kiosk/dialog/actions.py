"""What the dialog asks its driver to do: say, ask, report an answer, fall back, raise an emergency, finish."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.content.outcome import Outcome


@dataclass(frozen=True)
class Say:
    """Speak and show `text`; `prompts` are the pre-rendered pieces that make it up, in order."""

    text: str
    prompts: tuple[str, ...]
    kind: str = "say"  # say | outcome | emergency


@dataclass(frozen=True)
class Ask:
    """Ask a question and listen for one of `answers` (unknown, repeat and emergency are always accepted)."""

    question_id: str
    text: str
    prompts: tuple[str, ...]
    answers: tuple[str, ...]
    attempt: int = 1
    safety_gate: bool = False
    yes_from_age: int | None = None  # an age said as a number answers this question (see Question)


@dataclass(frozen=True)
class Understood:
    """An answer was accepted for a question."""

    question_id: str
    answer: str
    text: str
    confidence: float


@dataclass(frozen=True)
class Fallback:
    """Voice answers keep failing: the driver offers keys/touch or calls staff, as the site configures."""

    question_id: str
    mode: str


@dataclass(frozen=True)
class Emergency:
    """Start the emergency prompt now; in a clinic also alert staff. Nothing may come before it."""

    text: str
    prompts: tuple[str, ...]
    reasons: tuple[str, ...]
    alert_staff: bool


@dataclass(frozen=True)
class Finished:
    """The session is over: the outcome, and the record to store."""

    outcome: Outcome
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ended:
    """The session stopped before an outcome: the record to store, and why ('unanswered': nobody answered any
    more; 'input_ended': the microphone was lost or the input ran out; 'stopped': SIGTERM or Ctrl-C)."""

    record: dict[str, Any] = field(default_factory=dict)
    reason: str = "unanswered"


Action = Say | Ask | Understood | Fallback | Emergency | Finished | Ended
