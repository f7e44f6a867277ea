"""Typed sessions: a person at a terminal, or a program speaking JSON lines on stdin/stdout."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TextIO

from kiosk.clock import SystemClock
from kiosk.content.bundle import Content
from kiosk.content.questionnaire import ALWAYS_ACCEPTED
from kiosk.dialog.actions import Action, Ask, Emergency, Ended, Finished
from kiosk.dialog.machine import Dialog
from kiosk.dialog.normalize import Normalizer
from kiosk.dialog.understanding import Understanding
from kiosk.session.events import Emit, EventSinks, StreamSink, action_event
from kiosk.session.records import SessionStore, commit_records, keep_record, save_record
from kiosk.session.staff_alert import StaffAlert
from kiosk.settings import Settings

log = logging.getLogger(__name__)

# Longest line read as one answer: a runaway program must not fill memory.
MAX_LINE = 1000
ALERT_WATCH_SECONDS = 30.0
"""After an emergency in a clinic: how long a typed session waits for the staff pager to finish, so that a
pager that fails is told to the person before the session ends (one still running then is not a failure)."""


class TypedSession:
    """Drives a Dialog from lines of text; `jsonl` picks the output form.

    On an emergency the staff alert goes first, then the record (journaled, durable), then the displays: a
    closed stdout (`| head -3`, a terminal gone) costs only the display, never the alert or the record.
    """

    def __init__(self, dialog: Dialog, understanding: Understanding, store: SessionStore | None,
                 alert: StaffAlert, out: TextIO, jsonl: bool, displays: tuple[Emit, ...] = ()) -> None:
        self.dialog = dialog
        self.understanding = understanding
        self.store = store
        self.alert = alert
        self.jsonl = jsonl
        self.stream = StreamSink(out, None if jsonl else _human)
        self.events = EventSinks(self.stream, *displays)
        """Every display of the session (stdout first); a screen is one more `events.add(...)`."""
        self.finished: Finished | None = None

    def run(self, lines: TextIO, prompt: Callable[[], None] | None = None) -> Finished | None:
        """Run until the outcome or end of input; returns the Finished action (None when input ended)."""
        try:
            return self._run(lines, prompt)
        except KeyboardInterrupt:
            # Ctrl-C, SIGTERM from systemctl stop/restart, SIGHUP from a closed terminal: the answers given
            # so far are saved first, then shown where that is still possible.
            ended = self.dialog.interrupted()
            if ended is not None:
                save_record(self.store, ended.record)
                self.events(action_event(ended))
            raise

    def _run(self, lines: TextIO, prompt: Callable[[], None] | None) -> Finished | None:
        ask = self._handle(self.dialog.start())
        while ask is not None:
            if prompt:
                prompt()
            line = self._read(lines)
            if not line:
                self._handle(self.dialog.abort())
                return self.finished  # None unless the outcome was given before the input ended
            heard = self.understanding.understand(line.strip(), (*ask.answers, *ALWAYS_ACCEPTED), ask.yes_from_age)
            ask = self._handle(self.dialog.hear(heard)) or None
        return self.finished

    @staticmethod
    def _read(lines: TextIO) -> str:
        try:
            line = lines.readline(MAX_LINE)
            if len(line) == MAX_LINE and not line.endswith("\n"):
                # A pasted wall of text is one answer, not dozens: the rest of the line is dropped.
                while (rest := lines.readline(MAX_LINE)) and not rest.endswith("\n"):
                    pass
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            # The terminal went away (EIO) or the input is not text: the end of input, the answers kept.
            log.warning("the input cannot be read any more (%s); ending the session", exc)
            return ""
        return line

    def _handle(self, actions: list[Action]) -> Ask | None:
        emergency = next((a for a in actions if isinstance(a, Emergency)), None)
        alerted = False
        if emergency is not None and emergency.alert_staff:
            alerted = self.alert.send()  # 1. staff: before anything is written anywhere
        for action in actions:
            if isinstance(action, (Finished, Ended)):
                # 2. the record: journaled at once on an emergency, else straight to the database
                (keep_record if emergency is not None else save_record)(self.store, action.record)
        ask: Ask | None = None
        for action in actions:  # 3. the displays
            if isinstance(action, Finished):
                self.finished = action
            elif isinstance(action, Ask):
                ask = action
            self.events(action_event(action))
            if action is emergency and emergency.alert_staff and (not alerted or self.alert.failed()):
                self._alert_failed()
                alerted = False
        if emergency is not None:
            commit_records(self.store)
            if alerted and self.alert.failed(wait=ALERT_WATCH_SECONDS):
                self._alert_failed()  # the pager gave up after 「今、スタッフを呼んでいます」 was shown
        return ask

    def _alert_failed(self) -> None:
        # The emergency text says staff are being called: it must not stand when they are not.
        self.events({"type": "error", "kind": "staff_alert", "message": "the staff alert failed"})
        self.events({"type": "say", "text": self.dialog.content.speech["emergency_alert_failed"]})

    def write_prompt(self, text: str) -> None:
        """The typing prompt (「> 」), through the same guarded stream as the events."""
        self.stream.write(text)


def _human(event: dict[str, Any]) -> str:
    kind = event["type"]
    if kind == "ask":
        return f"\n{event['text']}\n"
    if kind == "emergency":
        return f"\n!!! {event['text']} !!!\n"
    if kind == "outcome":
        return f"\n【{event['colour']}・{event['label']}】 受診先: {'、'.join(event['department_names'])}\n"
    if kind in ("heard", "fallback", "ended", "error"):
        return ""
    return f"{event['text']}\n"


def build_text_session(settings: Settings, jsonl: bool, out: TextIO) -> TypedSession:
    content = Content.load(settings.content.folder, settings.content.grammar)
    channel = "jsonl" if jsonl else "text"
    # Typing is already the fallback for voice, so typed sessions never fall back further.
    site = dataclasses.replace(settings.site, fallback="none")
    dialog = Dialog(content, site, settings.dialog, SystemClock(), channel)
    understanding = Understanding(content.phrases, Normalizer.load())
    store = SessionStore.from_settings(settings.storage)
    store.start()  # records a fault kept in the journal are merged now
    return TypedSession(dialog, understanding, store, StaffAlert(settings.site.staff_alert_command), out, jsonl)
