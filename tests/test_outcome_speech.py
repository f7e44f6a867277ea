"""The end of a check: a short spoken outcome, 「もっと、くわしく聞きますか」, and the rest on request."""

from __future__ import annotations

from kiosk.content.bundle import Content
from kiosk.dialog.actions import Action, Ask, Emergency, Finished, Say
from kiosk.dialog.machine import DETAILS, Dialog, State
from kiosk.dialog.understanding import Heard
from kiosk.settings import DialogSettings, SiteSettings
from tests.fakes import FakeClock

# Back pain for weeks with numb legs, no red flag: consult, several reasons and advice items.
STORY = {"place": "back", "kind": "pain", "duration": "weeks", "numbness": "yes"}


def to_the_outcome(content: Content) -> tuple[Dialog, list[Action]]:
    dialog = Dialog(content, SiteSettings(), DialogSettings(), FakeClock(), "test")
    actions = dialog.start()
    while not any(isinstance(a, Finished) for a in actions):
        ask = [a for a in actions if isinstance(a, Ask)][-1]
        value = STORY.get(ask.question_id, "no")
        actions = dialog.hear(Heard(value, value))
    return dialog, actions


def test_the_outcome_is_short_saved_shown_in_full_and_then_the_rest_is_offered(content: Content) -> None:
    dialog, actions = to_the_outcome(content)
    kinds = [type(a) for a in actions]
    finished = next(a for a in actions if isinstance(a, Finished))
    said = [a for a in actions[:kinds.index(Finished)] if isinstance(a, Say) and a.kind == "outcome"]
    outcome = finished.outcome
    assert said[0].text.startswith("明日でもよいので、整形外科") and said[0].prompts[0] == "go.consult.before"
    assert said[1].prompts == (f"advice.{outcome.advice[0].id}",), "the one most important action"
    assert said[2].prompts == ("speech.reason_intro", outcome.reason_prompts[0]), "one reason"
    assert said[3].prompts == ("see_doctor.consult.0",), "one safety net"
    assert len(said) == 4 and len(outcome.reasons) > 1 and len(outcome.advice) > 2, "the rest is not said yet"
    assert isinstance(actions[-1], Ask) and actions[-1].question_id == DETAILS, "offered after the record is made"
    assert finished.record["completed"] and dialog.state is State.OFFERING
    rest = dialog.hear(Heard("yes", "はい"))
    texts = [a.text for a in rest if isinstance(a, Say)]
    assert outcome.reasons[1] in texts and outcome.advice[1].text in texts and outcome.see_doctor_if[1] in texts
    assert texts[-1] == content.speech["closing"] and dialog.state is State.FINISHED
    assert not any(isinstance(a, Finished) for a in rest), "one record per check"


def test_no_silence_or_the_end_of_the_input_only_closes(content: Content) -> None:
    for event in ("no", "silence", "end"):
        dialog, _ = to_the_outcome(content)
        if event == "end":
            assert dialog.abort() == [] and dialog.interrupted() is None, "the record is already saved"
            continue
        closing = dialog.hear(Heard("no", "いいえ")) if event == "no" else dialog.no_input()
        assert [a.prompts for a in closing if isinstance(a, Say)] == [("speech.closing",)], event
        assert dialog.state is State.FINISHED and dialog.hear(Heard("yes", "はい")) == []


def test_a_call_for_help_after_the_outcome_is_still_an_emergency(content: Content) -> None:
    dialog, _ = to_the_outcome(content)
    actions = dialog.hear(Heard("emergency", "救急車を呼んで"))
    assert isinstance(actions[0], Emergency)
    assert next(a for a in actions if isinstance(a, Finished)).record["emergency_request"]


def test_repeat_offers_again(content: Content) -> None:
    dialog, _ = to_the_outcome(content)
    again = dialog.hear(Heard("repeat", "もう一度"))
    assert isinstance(again[0], Ask) and again[0].question_id == DETAILS and again[0].attempt == 2
