"""What is said at the end of a check: a short outcome first, the rest only when the person asks for it.

The short part is the level and the one place to go first (one sentence), the one most important action (the
first advice item: safety comes first in advice.yaml), one reason and one safety net, in under 30 s of the
pre-rendered audio; then
「くわしく聞きますか」. The outcome event (the screen) always holds all of it.
"""

from __future__ import annotations

from kiosk.content.bundle import Content
from kiosk.content.outcome import Outcome
from kiosk.dialog.actions import Say


def short_outcome(content: Content, outcome: Outcome) -> list[Say]:
    """The level and where to go first (one sentence), the one action, one reason, one safety net."""
    speech = content.speech
    before, after = content.outcomes.levels[outcome.level].go
    first = outcome.go_first[0]  # one place to go: the others follow on request, and are on the screen
    says = [Say(before + content.outcomes.departments[first] + after,
                (f"go.{outcome.level}.before", f"department.{first}", f"go.{outcome.level}.after"), "outcome")]
    if outcome.advice:
        says.append(Say(outcome.advice[0].text, (f"advice.{outcome.advice[0].id}",), "outcome"))
    if outcome.reasons:
        says.append(Say(speech["reason_intro"] + outcome.reasons[0],
                        ("speech.reason_intro", outcome.reason_prompts[0]), "outcome"))
    if outcome.see_doctor_if:
        says.append(Say(outcome.see_doctor_if[0], (f"see_doctor.{outcome.level}.0",), "outcome"))
    return says


def outcome_details(content: Content, outcome: Outcome, limit: int) -> list[Say]:
    """What the short outcome left out: the other departments, up to `limit` more reasons and advice items,
    and the other safety nets."""
    says: list[Say] = []
    others = [d for d in outcome.departments if d != outcome.go_first[0]]
    if others:
        says.append(_departments(content, "all_departments_intro", tuple(others)))
    reasons = list(zip(outcome.reason_prompts, outcome.reasons))[1:limit + 1]
    if reasons:
        says += [_say(content, "reasons_intro"), *(Say(text, (prompt,), "outcome") for prompt, text in reasons)]
    advice = outcome.advice[1:limit + 1]
    if advice:
        says += [_say(content, "advice_intro"), *(Say(a.text, (f"advice.{a.id}",), "outcome") for a in advice)]
    nets = list(enumerate(outcome.see_doctor_if))[1:]
    if nets:
        says += [_say(content, "see_doctor_intro"),
                 *(Say(text, (f"see_doctor.{outcome.level}.{i}",), "outcome") for i, text in nets)]
    return says


def _departments(content: Content, intro: str, departments: tuple[str, ...]) -> Say:
    speech = content.speech
    names = "、".join(content.outcomes.departments[d] for d in departments)
    return Say(speech[intro] + names + speech["departments_outro"],
               (f"speech.{intro}", *(f"department.{d}" for d in departments), "speech.departments_outro"),
               "outcome")


def _say(content: Content, key: str) -> Say:
    return Say(content.speech[key], (f"speech.{key}",), "outcome")
