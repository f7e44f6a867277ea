"""Advice safety: who may be given which advice, as properties over all answers, on the real content.

From issue 20's clinical review and the seeds: no floor, kneeling or standing exercise for people who nearly
fall, whose knees give way, who are 65 or over or have weakness left by a stroke (seed 004 gives them chairs);
no exercise where seeds 002/003 say to have it checked first, and none when a doctor's visit is advised; a
warm foot bath only for feet that get cold, never with diabetes or numb feet (seed 000); the chairs advice
never beside a floor exercise; safety first in what is spoken.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.content.bundle import Content
from kiosk.content.levels import EMERGENCY, SELF_CARE, URGENT, rank
from kiosk.content.outcome import Outcome

CONTENT = Content.load()

FLOOR = {"stretch_gluteal", "stretch_hamstrings", "stretch_calf_seated", "knee_patella_setting"}
"""Done lying or sitting on the floor (あおむけ, 足を伸ばして座り, 膝の裏で床を押す)."""
KNEELING_OR_STANDING = {"stretch_iliopsoas", "stretch_calf"}
"""片膝立ち; standing at a wall on one leg pushed back."""
EXERCISES = FLOOR | KNEELING_OR_STANDING
UNSTEADY = ("near_fall", "knee_giving_way", "age_65", "stroke_before_still")
"""Yes or unknown: a fall risk (seed 004), the frail elderly, weakness left by a stroke."""
CHECK_FIRST = ("rf_night_pain", "rf_cancer", "rf_weight_loss", "rf_fever", "knee_swelling", "knee_hot",
               "knee_locking", "numbness", "claudication")
"""Yes or unknown: seeds 002/003 say to have it checked rather than stretched through (or a hot, swollen,
locking knee); weakness itself (kind weak) is one too."""


def answers_strategy() -> st.SearchStrategy[dict[str, str]]:
    parts = {q.id: st.sampled_from(q.recorded_values) for q in CONTENT.questionnaire.questions}
    return st.fixed_dictionaries({}, optional=parts)  # type: ignore[arg-type]


def outcome_of(answers: dict[str, str]) -> Outcome:
    return CONTENT.outcomes.compose(CONTENT.rules.triage(answers), answers)


def said_yes(answers: dict[str, str], *questions: str) -> bool:
    return any(answers.get(q) in ("yes", "unknown") for q in questions)


def no_exercise_for_the_unsteady_or_where_it_should_be_checked_first(answers: dict[str, str],
                                                                     outcome: Outcome) -> None:
    given_ids = {a.id for a in outcome.advice}
    exercises = given_ids & EXERCISES
    if said_yes(answers, *UNSTEADY) or answers.get("kind") in ("weak", "unknown"):
        assert not exercises, ("no floor, kneeling or standing exercise for the unsteady", answers, exercises)
    if said_yes(answers, *CHECK_FIRST):
        assert not exercises and "stretch_caution" not in given_ids, (answers, given_ids)
    if rank(outcome.level) > rank(SELF_CARE):
        assert not exercises, "where a doctor's visit is advised, exercises wait until it has been checked"
    assert ("stretch_caution" in given_ids) == bool(exercises - {"knee_patella_setting"}), given_ids


def chairs_never_beside_a_floor_exercise(answers: dict[str, str], outcome: Outcome) -> None:
    given_ids = {a.id for a in outcome.advice}
    assert not ("knee_chairs" in given_ids and given_ids & FLOOR), given_ids


def warm_foot_bath_only_for_cold_feet_never_with_diabetes_or_numb_feet(answers: dict[str, str],
                                                                       outcome: Outcome) -> None:
    if "warm_feet" in {a.id for a in outcome.advice}:
        assert answers.get("cold_feet") == "yes", "seed 000: for people whose feet get cold"
        assert not said_yes(answers, "diabetes", "numbness"), "feet that cannot feel heat can burn"
        assert answers.get("kind") not in ("weak", "unknown"), "しびれ is numb feet too"


def safety_first_in_what_is_spoken(answers: dict[str, str], outcome: Outcome) -> None:
    given_ids = [a.id for a in outcome.advice]
    if outcome.level == EMERGENCY:
        assert not given_ids, "an emergency gets the 119 prompt only"
    elif outcome.level == URGENT:
        assert given_ids[:1] == ["urgent_safety"], given_ids
    if answers.get("diabetes") == "yes" and answers.get("kind") == "weak" and rank(outcome.level) < rank(URGENT):
        assert "diabetes_care" in given_ids[:2], given_ids


@settings(max_examples=1500, deadline=None)
@given(answers=answers_strategy())
def test_advice_invariants_hold_for_any_answers(answers: dict[str, str]) -> None:
    outcome = outcome_of(answers)
    no_exercise_for_the_unsteady_or_where_it_should_be_checked_first(answers, outcome)
    chairs_never_beside_a_floor_exercise(answers, outcome)
    warm_foot_bath_only_for_cold_feet_never_with_diabetes_or_numb_feet(answers, outcome)
    safety_first_in_what_is_spoken(answers, outcome)


@settings(max_examples=600, deadline=None)
@given(answers=answers_strategy())
def test_a_reason_to_see_a_doctor_is_not_softened_by_self_care_reasons_or_places(answers: dict[str, str]) -> None:
    triage = CONTENT.rules.triage(answers)
    outcome = CONTENT.outcomes.compose(triage, answers)
    if rank(triage.level) > rank(SELF_CARE):
        levels = {r.id: r.level for r in CONTENT.rules.rules}
        assert all(levels[rid] != SELF_CARE for rid in outcome.rule_ids), outcome.rule_ids
        assert "rehab" not in outcome.departments, "整骨院 is not where a doctor's visit is made"


def test_a_knee_that_gives_way_hears_the_fall_advice_first_and_gets_no_floor_exercise(content: Content) -> None:
    answers = {"place": "knee", "kind": "weak", "knee_giving_way": "yes", "knee_situation": "stairs",
               "near_fall": "yes"}
    given_ids = [a.id for a in content.outcomes.compose(content.rules.triage(answers), answers).advice]
    assert given_ids[:3] == ["knee_stairs", "knee_turning", "knee_chairs"]
    assert "knee_support" in given_ids, "seed 004: insoles and a supporter for a knee that gives way on stairs"
    assert not set(given_ids) & EXERCISES


def test_a_steady_young_person_with_tired_legs_gets_stretches_with_the_caution(content: Content) -> None:
    answers = {"place": "thigh", "kind": "pain", "side": "both", "onset": "gradual", "duration": "days",
               "age_55": "no", "muscle_fatigue": "yes", "work_posture": "standing"}
    outcome = content.outcomes.compose(content.rules.triage(answers), answers)
    given_ids = [a.id for a in outcome.advice]
    assert outcome.level == SELF_CARE
    assert {"stretch_caution", "stretch_hamstrings", "stretch_calf", "stretch_iliopsoas"} <= set(given_ids)
