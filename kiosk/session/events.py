"""The event stream: each dialog action as one JSON-serialisable event, for JSON lines, a screen or a transcript."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

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


class EventSinks:
    """The event stream's fan-out to every display: stdout, a screen, a transcript. Each sink gets every event,
    in the order added; one that fails (a closed pipe, a bug in a screen) costs only itself: the failure is
    logged once per sink and the session, the staff alert and the record go on. Adding a display is `add()`."""

    def __init__(self, *sinks: Emit) -> None:
        self.sinks: list[Emit] = list(sinks)
        self._failed: set[int] = set()

    def add(self, sink: Emit) -> None:
        self.sinks.append(sink)

    def __call__(self, event: dict[str, Any] | None) -> None:
        if not event:
            return
        for sink in self.sinks:
            try:
                sink(event)
            except Exception as exc:  # a display's own fault: never the session's
                if id(sink) not in self._failed:
                    self._failed.add(id(sink))
                    log.error("a display of the event stream (%s) failed: %s: %s; the session goes on without "
                              "it", getattr(sink, "__qualname__", type(sink).__name__), type(exc).__name__, exc)


def isolated(events: Emit) -> EventSinks:
    """`events` as an EventSinks (itself when it is one already)."""
    return events if isinstance(events, EventSinks) else EventSinks(events)


class StreamSink:
    """Events written to a text stream (stdout): JSON lines, or the texts by `render`. A stream that fails
    (the reader went away: `| head -3`; a terminal closed; a file size limit) is dropped with one warning,
    and stdout is pointed at /dev/null so that Python's own flush at exit cannot fail on it again."""

    def __init__(self, stream: TextIO | None, render: Callable[[dict[str, Any]], str] | None = None) -> None:
        self._stream = stream
        """None: whatever sys.stdout is when an event comes."""
        self.render = render
        self.closed = False

    def __call__(self, event: dict[str, Any]) -> None:
        self.write(json.dumps(event, ensure_ascii=False) + "\n" if self.render is None else self.render(event))

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def write(self, text: str) -> None:
        if self.closed or not text:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            self.closed = True
            log.warning("the output stream cannot be written (%s); the session goes on without it (the staff "
                        "alert and the record do not depend on it)", getattr(exc, "strerror", None) or exc)
            _detach(self.stream)


def _detach(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a real file (a test's StringIO): nothing is flushed at exit


def stdout_printer(jsonl: bool, screen: bool) -> Emit:
    """Events to stdout: JSON lines when asked for (`--events`, a screen program reads them), the texts when
    stdout is a terminal someone reads. Otherwise nothing: a service's stdout is the journal, and the questions
    asked and outcome spoken say what a person answered; the logs must never hold that."""
    if not (jsonl or screen):
        return lambda event: None
    return StreamSink(None, None if jsonl else _voice_text)


def _voice_text(event: dict[str, Any]) -> str:
    if "text" in event and event["type"] in ("say", "ask", "emergency"):
        return ("!!! " if event["type"] == "emergency" else "") + f"{event['text']}\n"
    if event["type"] == "outcome":
        return f"【{event['colour']}・{event['label']}】 {'、'.join(event['department_names'])}\n"
    return ""
