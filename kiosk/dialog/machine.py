"""The self-check dialog: an explicit state machine fed with answers, emitting actions. No audio, no I/O.

Drivers (text, JSON lines, voice, replay) call `start()`, then `hear()` for every answer and
`no_input()` when nothing was said, and carry out the returned actions in order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kiosk import __version__
from kiosk.clock import Clock
from kiosk.content.bundle import Content
from kiosk.content.levels import EMERGENCY, SELF_CARE, URGENT, rank
from kiosk.content.outcome import Outcome
from kiosk.content.phrases import UNKNOWN
from kiosk.content.questionnaire import Question
from kiosk.content.triage import Triage
from kiosk.dialog.actions import Action, Ask, Emergency, Ended, Fallback, Finished, Say, Understood
from kiosk.dialog.outcome_speech import outcome_details, short_outcome
from kiosk.dialog.understanding import CALL_FOR_HELP, REPEAT, Heard
from kiosk.settings import DialogSettings, SiteSettings


class State(Enum):
    NOT_STARTED = "not_started"
    ASKING = "asking"
    EMERGENCY = "emergency"
    OFFERING = "offering"  # the short outcome is said and saved; 「くわしく聞きますか」 waits for an answer
    FINISHED = "finished"


DETAILS = "details"
"""The question id of 「くわしく聞きますか」 after the short spoken outcome (no question of the check)."""


@dataclass
class _Turn:
    question: Question
    asked_at: float
    failures: int = 0
    asks: int = 0
    rechecked: bool = False
    fell_back: bool = False
    spoke: bool = False


@dataclass
class _Log:
    started_wall: float
    started: float
    turns: list[dict[str, Any]] = field(default_factory=list)
    emergency_request: bool = False


class Dialog:
    """One self-check session."""

    def __init__(self, content: Content, site: SiteSettings, settings: DialogSettings, clock: Clock,
                 channel: str = "voice") -> None:
        self.content = content
        self.site = site
        self.settings = settings
        self.clock = clock
        self.channel = channel
        self.state = State.NOT_STARTED
        self.answers: dict[str, str] = {}
        self._turn: _Turn | None = None
        self._log = _Log(clock.wall(), clock.monotonic())
        self._silent_questions = 0  # questions in a row passed over with nothing said at all
        self._told_unclear_speech = False
        self._offered: Outcome | None = None

    # --- events from the driver ---

    def start(self) -> list[Action]:
        first = self.content.next_question(self.answers, after=None)
        assert first is not None, "content has at least one question"
        self.state = State.ASKING
        return [self._say("welcome"), *self._begin(first, previous=None)]

    def hear(self, heard: Heard) -> list[Action]:
        """An answer from the person (typed, or recognised); `heard.answer` None means not understood."""
        if self.state is State.OFFERING:
            return self._details(heard)
        if self.state is not State.ASKING or self._turn is None:
            return []
        turn, answer = self._turn, heard.answer
        turn.spoke = True
        self._silent_questions = 0
        if answer == CALL_FOR_HELP:
            self._log.emergency_request = True
            return self._emergency(self.content.rules.triage(self.answers), requested=True)
        if answer == REPEAT:
            return [self._ask(turn, with_hint=True)]
        if answer is None or (answer not in turn.question.answers and answer != UNKNOWN):
            return self._failed("not_understood")
        if answer == "no" and turn.question.is_safety_gate:
            # A yes/no swap is the dangerous error: an unsure "no" is asked again, and never recorded
            # as "no" when it stays unsure. An unsure "yes" is taken (it only raises the level).
            if not turn.rechecked and heard.confidence < self.settings.confirm_no_below:
                turn.rechecked = True
                return [self._say("recheck_no"), self._ask(turn, with_hint=True)]
            if turn.rechecked and heard.confidence < max(self.settings.recheck_no_min,
                                                         self.settings.confirm_no_below):
                answer = UNKNOWN
        return self._accept(answer, heard)

    def no_input(self) -> list[Action]:
        """Nothing was said before the no-input timeout."""
        if self.state is State.OFFERING:
            return self._details(Heard("no", ""))
        if self.state is not State.ASKING:
            return []
        return self._failed("no_input")

    def abort(self) -> list[Action]:
        """The session ended early (input closed, device lost): say so, and the record of what was answered."""
        if self.state is State.OFFERING:
            self.state = State.FINISHED  # the outcome was said and its record saved: nothing is lost
            return []
        return self._stop("incomplete", "input_ended")

    def interrupted(self) -> Ended | None:
        """A session stopped from outside (the service stopped, Ctrl-C) while still asking: its record, nothing
        said; None when it had not begun or had already ended, its record saved then."""
        if self.state is not State.ASKING:
            return None
        self.state, self._turn = State.FINISHED, None
        return Ended(self._record(None, completed=False), "stopped")

    # --- internals ---

    def _stop(self, speech: str, reason: str) -> list[Action]:
        """End before an outcome. What the answers so far already say is still spoken when it is urgent or
        more: 「できるだけ早く受診」 must not be lost because the microphone went or the person walked away."""
        self.state, self._turn = State.FINISHED, None
        said = [self._say(speech)]
        triage = self.content.rules.triage(self.answers)
        if rank(triage.level) >= rank(URGENT):
            level = self.content.outcomes.levels[triage.level].speech
            said += [self._say("interim_intro", "outcome"), Say(level, (f"level.{triage.level}",), "outcome")]
        return [*said, Ended(self._record(None, completed=False), reason)]

    def _begin(self, question: Question, previous: Question | None) -> list[Action]:
        actions: list[Action] = []
        if previous is None or previous.section != question.section:
            actions.append(self._say(f"{question.section}_intro"))
        self._turn = _Turn(question, self.clock.monotonic())
        actions.append(self._ask(self._turn, with_hint=False))
        return actions

    def _ask(self, turn: _Turn, with_hint: bool) -> Ask:
        q = turn.question
        prompts: tuple[str, ...] = (f"question.{q.id}",)
        text = q.text
        if with_hint:
            prompts += (f"hint.{q.id}",)
            text += self.content.speech.hint(q.answers)
        turn.asks += 1
        return Ask(q.id, text, prompts, q.answers, turn.asks, q.is_safety_gate, q.yes_from_age)

    def _failed(self, kind: str) -> list[Action]:
        assert self._turn is not None
        turn = self._turn
        turn.failures += 1
        limit = self.settings.max_reprompts
        if turn.failures <= limit:
            return [self._say(kind), self._ask(turn, with_hint=True)]
        if not turn.fell_back and self.site.fallback != "none":
            turn.fell_back = True
            return [Fallback(turn.question.id, self.site.fallback), self._say(f"fallback_{self.site.fallback}"),
                    self._ask(turn, with_hint=True)]
        if turn.fell_back and turn.failures <= 2 * limit + 1:  # the fallback gets its own tries
            return [self._say(kind), self._ask(turn, with_hint=True)]
        # Still nothing: record "unknown", which the rules never rank below "no", and go on. If that
        # makes it an emergency, the emergency prompt is all that is said: nothing may come before it.
        accepted = self._accept(UNKNOWN, Heard(UNKNOWN, "", 0.0))
        if any(isinstance(a, Emergency) for a in accepted):
            return accepted
        self._silent_questions = 0 if turn.spoke else self._silent_questions + 1
        limit = self.settings.end_after_silent_questions
        if limit and self._silent_questions >= limit and self.state is State.ASKING:
            # Nobody has answered for several questions: end rather than ask the rest of an empty room, or of
            # the next person, who must not inherit these answers.
            return self._stop("ended_unanswered", "unanswered")
        said = [self._say("moving_on")]
        if turn.spoke and turn.question.section == "stroke" and not self._told_unclear_speech:
            # Speech that is never understood may itself be the sign asked about (ろれつが回らない): say now,
            # not at the end of a long check, what to do if the person or someone nearby thinks so.
            self._told_unclear_speech = True
            said.insert(0, self._say("unclear_speech"))
        return [*said, *accepted]

    def _accept(self, answer: str, heard: Heard) -> list[Action]:
        assert self._turn is not None
        turn = self._turn
        q = turn.question
        self.answers[q.id] = answer
        self._log.turns.append({
            "id": q.id, "answer": answer, "confidence": round(heard.confidence, 3),
            "failures": turn.failures, "rechecked": turn.rechecked,
            "seconds": round(self.clock.monotonic() - turn.asked_at, 3),
        })
        actions: list[Action] = [Understood(q.id, answer, heard.text, heard.confidence)]
        triage = self.content.rules.triage(self.answers)
        if triage.level == EMERGENCY:
            alert, *rest = self._emergency(triage, requested=False)
            return [alert, *actions, *rest]  # the emergency prompt first, then what was heard
        following = self.content.next_question(self.answers, after=q.id)
        if following is not None:
            return actions + self._begin(following, previous=q)
        return actions + self._finish(triage)

    def _emergency(self, triage: Triage, requested: bool) -> list[Action]:
        self.state = State.EMERGENCY
        self._turn = None
        outcome = self._outcome(triage, requested)
        speech = self.content.speech
        mode_text = "emergency_clinic" if self.site.mode == "clinic" else "emergency_home"
        prompts = ["level.emergency"]
        texts = [outcome.speech]
        if requested:
            prompts.insert(0, "speech.emergency_request")
            texts.insert(0, speech["emergency_request"])
        else:
            top = next(r for r in triage.explained if r.rule.level == EMERGENCY)
            prompts.append(top.prompt)
            texts.append(top.text)
        prompts.append(f"speech.{mode_text}")
        texts.append(speech[mode_text])
        alert = Emergency("".join(texts), tuple(prompts), outcome.reasons, self.site.mode == "clinic")
        self.state = State.FINISHED
        return [alert, Finished(outcome, self._record(outcome, completed=True))]

    def _finish(self, triage: Triage) -> list[Action]:
        self.state = State.OFFERING
        outcome = self._outcome(triage, requested=False)
        self._offered = outcome
        offer = Ask(DETAILS, self.content.speech["details_offer"], ("speech.details_offer",), ("yes", "no"))
        return [*short_outcome(self.content, outcome), Finished(outcome, self._record(outcome, completed=True)),
                offer]

    def _details(self, heard: Heard) -> list[Action]:
        """The answer to 「くわしく聞きますか」: the rest of the outcome on 「はい」, else the closing words."""
        if heard.answer == CALL_FOR_HELP:
            self._log.emergency_request = True
            return self._emergency(self.content.rules.triage(self.answers), requested=True)
        if heard.answer == REPEAT:
            return [Ask(DETAILS, self.content.speech["details_offer"], ("speech.details_offer",), ("yes", "no"),
                        attempt=2)]
        self.state = State.FINISHED
        offered, self._offered = self._offered, None
        rest = outcome_details(self.content, offered, self.settings.spoken_advice) if (
            heard.answer == "yes" and offered is not None) else []
        return [*rest, self._say("closing", "outcome")]

    def _outcome(self, triage: Triage, requested: bool) -> Outcome:
        # A call for help raises the level to an emergency, with the departments an emergency goes to.
        outcome = self.content.outcomes.compose(triage, self.answers, EMERGENCY if requested else SELF_CARE)
        if not requested:
            return outcome
        return dataclasses.replace(outcome, reasons=(self.content.speech["emergency_request"], *outcome.reasons),
                                   rule_ids=("emergency_request", *outcome.rule_ids))

    def _say(self, key: str, kind: str = "say") -> Say:
        return Say(self.content.speech[key], (f"speech.{key}",), kind)

    def _record(self, outcome: Outcome | None, completed: bool) -> dict[str, Any]:
        now = self.clock.monotonic()
        return {
            "started_at": self._log.started_wall,
            "duration_s": round(now - self._log.started, 3),
            "channel": self.channel,
            "mode": self.site.mode,
            "completed": completed,
            "level": outcome.level if outcome else None,
            "departments": list(outcome.departments) if outcome else [],
            "reasons": list(outcome.rule_ids) if outcome else [],
            "answers": dict(self.answers),
            "turns": list(self._log.turns),
            "emergency_request": self._log.emergency_request,
            "version": __version__,
        }
