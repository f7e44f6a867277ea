"""Between checks on an always-on kiosk: speak the invitation and listen, as kiosk.dialog.invitation decides."""

from __future__ import annotations

import logging

from kiosk.content.phrases import Grammar
from kiosk.dialog.invitation import Invitation, Step
from kiosk.dialog.understanding import Heard
from kiosk.errors import AudioError
from kiosk.session.listening import Listened, listen
from kiosk.session.voice import VoiceSession

log = logging.getLogger(__name__)

NOBODY = Heard(None, "<nobody>", 0.0)
"""wait_for_next_person: the microphone is gone, or the audio ended; no session to begin."""


def wait_for_next_person(session: VoiceSession) -> Heard | None:
    """Invite the next person and listen; None when someone says はい (begin the check), the call for help when
    they ask for help (the session then starts with the emergency prompt), or NOBODY."""
    grammar = session.dialog.content.phrases.grammar(("yes",))
    clock = session.clock
    policy = Invitation(session.dialog.settings.confirm_help_below)
    while True:
        if policy.due(clock.monotonic()):
            session.say_text("ready")
            policy.said(clock.monotonic())
        try:
            listened = listen_once(session, grammar, "ready")
        except AudioError as exc:
            # Between people: wait for the microphone to come back instead of exiting.
            log.error("%s", exc)
            if not session.source.recover():
                return NOBODY
            continue
        if listened is None:
            return NOBODY
        if listened.recognition is None:
            continue  # nothing said: listen on, quietly
        understood = session.understanding.from_recognition(listened.recognition)
        step = policy.heard(understood)
        if step is Step.CONFIRM_HELP:
            step = policy.confirmed(_confirm_help(session, grammar), clock.monotonic())
        if step is Step.HELP:
            return understood
        if step is Step.BEGIN:
            return None


def listen_once(session: VoiceSession, grammar: Grammar, turn: str) -> Listened | None:
    """One utterance at the microphone outside a check; None when no more audio will come.
    An AudioError is left to the caller, who decides whether to wait for the microphone."""
    chunks = session.source.next_answer(turn)
    if chunks is None:
        return None
    session.source.unmute()
    heard = listen(chunks, session.endpointer, session.recognizer, grammar, session.clock)
    session.source.mute()
    return heard


def _confirm_help(session: VoiceSession, grammar: Grammar) -> str | None:
    """「助けを呼びますか」, and the answer heard (None: nothing, or the microphone failed)."""
    session.say_text("confirm_help")
    try:
        listened = listen_once(session, grammar, "confirm_help")
    except AudioError as exc:
        log.error("%s", exc)
        return None
    return listened.recognition.answer if listened is not None and listened.recognition is not None else None
