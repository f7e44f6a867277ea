"""Typed sessions: a person at a terminal, or a program speaking JSON lines on stdin/stdout."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TextIO

from kiosk.actions import Action, Ask, Emergency, Ended, Fallback, Finished, Say, Understood
from kiosk.dialog import Dialog
from kiosk.errors import StorageError
from kiosk.history import SessionStore
from kiosk.outcome import Outcome
from kiosk.questionnaire import ALWAYS_ACCEPTED
from kiosk.staff_alert import StaffAlert
from kiosk.understanding import Understanding

log = logging.getLogger(__name__)

# Longest line read as one answer: a runaway program must not fill memory.
MAX_LINE = 1000


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


class TypedSession:
    """Drives a Dialog from lines of text; `jsonl` picks the output form."""

    def __init__(self, dialog: Dialog, understanding: Understanding, store: SessionStore | None,
                 alert: StaffAlert, out: TextIO, jsonl: bool) -> None:
        self.dialog = dialog
        self.understanding = understanding
        self.store = store
        self.alert = alert
        self.out = out
        self.jsonl = jsonl
        self.finished: Finished | None = None

    def run(self, lines: TextIO, prompt: Callable[[], None] | None = None) -> Finished | None:
        """Run until the outcome or end of input; returns the Finished action (None when input ended)."""
        try:
            return self._run(lines, prompt)
        except KeyboardInterrupt:
            # Ctrl-C, or SIGTERM from systemctl stop/restart: the answers given so far are still saved.
            ended = self.dialog.interrupted()
            if ended is not None:
                self._emit(action_event(ended))
                self._save(ended.record)
            raise

    def _run(self, lines: TextIO, prompt: Callable[[], None] | None) -> Finished | None:
        ask = self._handle(self.dialog.start())
        while ask is not None:
            if prompt:
                prompt()
            line = lines.readline(MAX_LINE)
            if len(line) == MAX_LINE and not line.endswith("\n"):
                # A pasted wall of text is one answer, not dozens: the rest of the line is dropped.
                while (rest := lines.readline(MAX_LINE)) and not rest.endswith("\n"):
                    pass
            if not line:
                self._handle(self.dialog.abort())
                return None
            heard = self.understanding.understand(line.strip(), (*ask.answers, *ALWAYS_ACCEPTED), ask.yes_from_age)
            ask = self._handle(self.dialog.hear(heard)) or None
        return self.finished

    def _handle(self, actions: list[Action]) -> Ask | None:
        ask: Ask | None = None
        for action in actions:
            if isinstance(action, Emergency):
                self._emit(action_event(action))  # first, before anything else is done
                if action.alert_staff and not self.alert.send():
                    # The emergency text says staff are being called: it must not stand when they are not.
                    self._emit({"type": "say", "text": self.dialog.content.speech["emergency_alert_failed"]})
                continue
            if isinstance(action, Finished):
                self.finished = action
                self._save(action.record)
            elif isinstance(action, Ended):
                self._save(action.record)
            elif isinstance(action, Ask):
                ask = action
            self._emit(action_event(action))
        return ask

    def _save(self, record: dict[str, Any]) -> None:
        if self.store is None:
            return
        try:
            self.store.save(record)
        except StorageError as exc:
            log.warning("%s", exc)  # the person still hears their outcome; the record is what is lost

    def _emit(self, event: dict[str, Any] | None) -> None:
        if event is None:
            return
        if self.jsonl:
            self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        else:
            self.out.write(_human(event))
        self.out.flush()


def _human(event: dict[str, Any]) -> str:
    kind = event["type"]
    if kind == "ask":
        return f"\n{event['text']}\n"
    if kind == "emergency":
        return f"\n!!! {event['text']} !!!\n"
    if kind == "outcome":
        return f"\n【{event['colour']}・{event['label']}】 受診先: {'、'.join(event['department_names'])}\n"
    if kind in ("heard", "fallback", "ended"):
        return ""
    return f"{event['text']}\n"
