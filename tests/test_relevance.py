"""Questions skipped because no answer could matter: proven on every complaint and on random sessions.

For each finished session, every question that applied (its ask_if held) but was not asked is given each of
its answers — one at a time and all skipped ones together — and the level, the departments (in order) and the
advice must stay exactly as they were. A red flag must in addition be one none of whose rules could still
fire for this complaint (or whose finding already fired): the stroke gate and the red flags are never skipped
merely because the level is already high.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.content.bundle import Content
from kiosk.content.relevance import alive
from kiosk.dialog.understanding import Heard
from tests.scripted import Run, run_session
from tests.test_triage_safety import complaint_paths, scripted

CONTENT = Content.load()


def summary(content: Content, answers: Mapping[str, str]) -> tuple[object, ...]:
    outcome = content.outcomes.compose(content.rules.triage(answers), answers)
    return outcome.level, outcome.departments, tuple(a.id for a in outcome.advice)


def skipped(content: Content, run: Run) -> list[str]:
    """Questions that applied by ask_if when their turn came (all of ask_if's questions come earlier, so the
    final answers decide it) but that relevance passed over."""
    answers = run.finished.record["answers"] if run.finished else {}
    return [q.id for q in content.questionnaire.questions
            if q.id not in run.asked and q.id not in answers and q.ask_if.holds(answers)]


def assert_skips_change_nothing(content: Content, run: Run, rng: random.Random) -> None:
    assert run.finished is not None
    if run.finished.outcome.level == "emergency":
        return  # the check stopped at the emergency: nothing after it is skipped, it is not reached
    answers = dict(run.finished.record["answers"])
    before = summary(content, answers)
    passed_over = skipped(content, run)
    for qid in passed_over:
        q = content.questionnaire.by_id(qid)
        assert q.section != "stroke", "the stroke gate is always asked in full"
        for value in q.recorded_values:
            assert summary(content, {**answers, qid: value}) == before, (qid, value, answers)
        if q.section == "red_flag":
            fired = {r.id for r in content.rules.triage(answers).fired}
            index = [x.id for x in content.questionnaire.questions].index(qid)
            decided = frozenset(x.id for x in content.questionnaire.questions[:index])
            live = [r.id for r in content.rules.rules if r.id not in fired and any(
                qid in dict(c.tests) and alive(c, answers, decided) for c in r.when.clauses)]
            assert not live, f"red flag {qid} skipped though {live} could still fire for this complaint"
    together = {qid: rng.choice(content.questionnaire.by_id(qid).recorded_values) for qid in passed_over}
    assert summary(content, {**answers, **together}) == before, (together, answers)


@pytest.mark.slow
def test_on_every_complaint_a_skipped_question_could_not_have_changed_the_outcome(
        content: Content, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(20)
    complaints = complaint_paths(content)
    runs = [(c, "no") for c in complaints] + [(c, rest) for c in complaints[::7] for rest in ("yes", "unknown")]
    asked: dict[tuple[tuple[str, str], ...], int] = {}
    for complaint, rest in runs:
        run = run_session(content, scripted(complaint, rest))
        assert_skips_change_nothing(content, run, rng)
        if rest == "no" and run.level != "emergency":
            record = run.finished.record["answers"] if run.finished else {}
            asked[tuple((q, record[q]) for q in run.asked)] = len(run.asked)
    counts = sorted(asked.values())
    with capsys.disabled():
        print(f"\nquestions per path (each complaint, everything else 「いいえ」; {len(counts)} distinct paths that "
              f"are not 119): min {counts[0]} median {statistics.median(counts)} max {counts[-1]}")


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_in_random_sessions_a_skipped_question_could_not_have_changed_the_outcome(data: st.DataObject) -> None:
    def answer(ask):  # type: ignore[no-untyped-def]
        weights = [*ask.answers, "unknown"]
        value = data.draw(st.sampled_from(["no"] * 3 + weights if "no" in ask.answers else weights))
        return Heard(value, value)

    run = run_session(CONTENT, answer)
    assert_skips_change_nothing(CONTENT, run, random.Random(data.draw(st.integers(0, 1000))))


def test_a_red_flag_that_cannot_apply_to_the_complaint_is_not_asked(content: Content) -> None:
    # CLINICAL.md gives the knee its own flags: a knee in pain is not asked about cancer or night pain.
    knee = run_session(content, scripted({"place": "knee", "kind": "pain", "side": "left", "onset": "gradual",
                                          "duration": "weeks", "injury": "no"}, "no"))
    assert {"rf_night_pain", "rf_cancer", "rf_weight_loss", "rf_bladder"}.isdisjoint(knee.asked)
    assert "rf_fever" in knee.asked, "fever goes with the knee's flags (a hot swollen knee)"
    back = run_session(content, scripted({"place": "back", "kind": "pain", "side": "middle", "onset": "gradual",
                                          "duration": "weeks", "injury": "no"}, "no"))
    assert {"rf_bladder", "rf_saddle", "rf_night_pain", "rf_cancer", "rf_weight_loss", "rf_leg_weak"} <= set(
        back.asked)
    assert "rf_fall" not in back.asked, "no fall began it"
