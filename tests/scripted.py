"""Drive the real Dialog with answers given by question id (for triage, flow and vignette tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kiosk.content.bundle import Content
from kiosk.dialog.actions import Action, Ask, Emergency, Finished
from kiosk.dialog.machine import Dialog
from kiosk.dialog.understanding import Heard
from kiosk.settings import DialogSettings, SiteSettings
from tests.fakes import FakeClock


@dataclass
class Run:
    """Everything a scripted session did."""

    actions: list[Action] = field(default_factory=list)
    batches: list[list[Action]] = field(default_factory=list)
    """The actions of each start()/hear() call, as the driver receives them."""
    asked: list[str] = field(default_factory=list)
    finished: Finished | None = None

    @property
    def level(self) -> str:
        assert self.finished is not None
        return self.finished.outcome.level

    @property
    def emergency(self) -> Emergency | None:
        return next((a for a in self.actions if isinstance(a, Emergency)), None)


def run_session(content: Content, answer_for: Callable[[Ask], Heard], site: SiteSettings | None = None,
                settings: DialogSettings | None = None, max_turns: int = 500) -> Run:
    """Run a whole session, answering each Ask with `answer_for(ask)`."""
    dialog = Dialog(content, site or SiteSettings(), settings or DialogSettings(), FakeClock(), "test")
    run = Run()
    actions = dialog.start()
    for _ in range(max_turns):
        run.actions += actions
        run.batches.append(actions)
        asks = [a for a in actions if isinstance(a, Ask)]
        run.finished = next((a for a in actions if isinstance(a, Finished)), None)
        if run.finished or not asks:
            return run
        ask = asks[-1]
        if ask.attempt == 1:
            run.asked.append(ask.question_id)
        actions = dialog.hear(answer_for(ask))
    raise AssertionError(f"session did not end within {max_turns} turns")


def by_id(answers: Mapping[str, str], content: Content) -> Callable[[Ask], Heard]:
    """Answer from a mapping; yes/no questions not listed get "no"; other unlisted questions fail the test."""

    def answer(ask: Ask) -> Heard:
        if ask.question_id in answers:
            return Heard(answers[ask.question_id], answers[ask.question_id])
        if "no" in ask.answers:
            return Heard("no", "いいえ")
        raise AssertionError(f"script has no answer for short-answer question '{ask.question_id}'")

    return answer
