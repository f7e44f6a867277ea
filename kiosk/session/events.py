"""The event stream: each dialog action as one JSON-serialisable event, for JSON lines, a screen or a transcript."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from kiosk.content.outcome import Outcome
from kiosk.dialog.actions import Action, Ask, Emergency, Ended, Fallback, Finished, Say, Understood

log = logging.getLogger(__name__)
Emit = Callable[[dict[str, Any]], None]


def outcome_event(outcome: Outcome) -> dict[str, Any]:
    return {
        "type": "outcome", "level": outcome.level, "colour": outcome.colour, "label": outcome.label,
        "departments": list(outcome.departments), "department_names": list(outcome.department_names),
        "reasons": list(outcome.reasons), "rules": list(outcome.rule_ids),
        "advice": [a.text for a in outcome.advice], "see_doctor_if": list(outcome.see_doctor_if),
    }


def action_event(action: Action) -> dict[str, Any] | None:
    """The JSON-lines form of an action (None for actions with no event)."""
    if isinstance(action, Ask):
        return {"type": "ask", "id": action.question_id, "text": action.text, "answers": list(action.answers),
                "attempt": action.attempt}
    if isinstance(action, Say):
        return {"type": "say", "text": action.text}
    if isinstance(action, Understood):
        return {"type": "heard", "id": action.question_id, "answer": action.answer, "text": action.text,
                "confidence": round(action.confidence, 3)}
    if isinstance(action, Fallback):
        return {"type": "fallback", "id": action.question_id, "mode": action.mode}
    if isinstance(action, Emergency):
        return {"type": "emergency", "text": action.text, "reasons": list(action.reasons),
                "staff_alerted": action.alert_staff}
    if isinstance(action, Finished):
        return outcome_event(action.outcome)
    if isinstance(action, Ended):
        return {"type": "ended", "reason": action.reason}
    return None


def stdout_printer(jsonl: bool, screen: bool) -> Emit:
    """Events to stdout: JSON lines when asked for (`--events`, a screen program reads them), the texts when
    stdout is a terminal someone reads. Otherwise nothing: a service's stdout is the journal, and the questions
    asked and outcome spoken say what a person answered; the logs must never hold that."""

    def emit(event: dict[str, Any]) -> None:
        if not event or not (jsonl or screen):
            return
        try:
            if jsonl:
                print(json.dumps(event, ensure_ascii=False), flush=True)
            elif "text" in event and event["type"] in ("say", "ask", "emergency"):
                print(("!!! " if event["type"] == "emergency" else "") + event["text"], flush=True)
            elif event["type"] == "outcome":
                print(f"【{event['colour']}・{event['label']}】 {'、'.join(event['department_names'])}", flush=True)
        except BrokenPipeError:
            # The screen went away; the voice goes on (the events are for display only).
            log.warning("event stream closed; continuing with voice only")

    return emit
