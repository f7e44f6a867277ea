"""Typed sessions: a person at a terminal, or a program speaking JSON lines on stdin/stdout."""

from __future__ import annotations

import json
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
from kiosk.session.events import action_event
from kiosk.session.records import SessionStore, save_record
from kiosk.session.staff_alert import StaffAlert
from kiosk.settings import Settings

log = logging.getLogger(__name__)

# Longest line read as one answer: a runaway program must not fill memory.
MAX_LINE = 1000


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
                save_record(self.store, ended.record)
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
                return self.finished  # None unless the outcome was given before the input ended
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
                save_record(self.store, action.record)
            elif isinstance(action, Ended):
                save_record(self.store, action.record)
            elif isinstance(action, Ask):
                ask = action
            self._emit(action_event(action))
        return ask


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


def build_text_session(settings: Settings, jsonl: bool, out: TextIO) -> TypedSession:
    content = Content.load(settings.content.folder, settings.content.grammar)
    channel = "jsonl" if jsonl else "text"
    # Typing is already the fallback for voice, so typed sessions never fall back further.
    site = settings.site.__class__(settings.site.mode, settings.site.staff_alert_command, "none")
    dialog = Dialog(content, site, settings.dialog, SystemClock(), channel)
    understanding = Understanding(content.phrases, Normalizer.load())
    return TypedSession(dialog, understanding, SessionStore(settings.storage.database),
                        StaffAlert(settings.site.staff_alert_command), out, jsonl)
