"""Between checks, on an always-on kiosk: when to say the invitation, and what an utterance heard then means.

A pure state machine on the clock the driver passes in; the driver (kiosk.session.invitation) speaks and
listens. An always-on kiosk at home must not talk to an empty room every few seconds, all night, and a
television in the room must not set off the 119 prompt and a staff alert by itself.
"""

from __future__ import annotations

from enum import Enum

from kiosk.dialog.understanding import CALL_FOR_HELP, Heard

INVITE_AGAIN_AFTER = (60.0, 300.0)
"""Seconds of silence after which the invitation is said again, then never again until someone speaks."""


class Step(Enum):
    """What the driver does with an utterance heard between checks."""

    LISTEN = "listen"
    """Listen on, quietly."""
    BEGIN = "begin"
    """Someone said はい: begin the check."""
    HELP = "help"
    """A call for help: begin the check with the emergency prompt, nothing before it."""
    CONFIRM_HELP = "confirm_help"
    """A call for help heard unsurely: ask 「助けを呼びますか」 once and pass the answer to `confirmed()`."""


class Invitation:
    """The invitation policy: said at once, again after 1 and 5 minutes of quiet, then not until someone speaks."""

    def __init__(self, confirm_help_below: float, again_after: tuple[float, ...] = INVITE_AGAIN_AFTER) -> None:
        self.confirm_help_below = confirm_help_below
        self.again_after = again_after
        self._said_at = 0.0
        self._invitations = 0  # how often it was said since someone last spoke

    def due(self, now: float) -> bool:
        """The invitation should be said now (the driver then calls `said(now)`)."""
        if self._invitations == 0:
            return True
        return (self._invitations <= len(self.again_after)
                and now - self._said_at >= self.again_after[self._invitations - 1])

    def said(self, now: float) -> None:
        self._said_at, self._invitations = now, self._invitations + 1

    def heard(self, heard: Heard) -> Step:
        """Someone said something (`heard`, understood against the invitation's grammar)."""
        if heard.answer == CALL_FOR_HELP:
            # Answered now, not after the welcome and a question. Heard unsurely, with nobody in a check, it
            # may be the television: asked once, so that it cannot page staff by itself.
            return Step.HELP if heard.confidence >= self.confirm_help_below else Step.CONFIRM_HELP
        if heard.answer == "yes":
            return Step.BEGIN
        self._invitations = 0  # someone spoke, but did not say はい: tell them how to begin
        return Step.LISTEN

    def confirmed(self, answer: str | None, now: float) -> Step:
        """The answer to 「助けを呼びますか」 (None: nothing understood): はい or another call for help is help."""
        if answer in ("yes", CALL_FOR_HELP):
            return Step.HELP
        self._said_at, self._invitations = now, 1  # not asked for: listen on, quietly
        return Step.LISTEN
