"""Triage safety over all answer combinations of the stroke gate and red flags, on the real rules."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.content.bundle import Content
from kiosk.content.datafiles import content_dir
from kiosk.content.levels import CONSULT, EMERGENCY, URGENT, rank
from kiosk.content.safety import ORDER, fires_alone, missing_higher, raised_still_fires
from kiosk.dialog.actions import Emergency
from kiosk.errors import ContentError
from tests.scripted import by_id, run_session

THREE = ("no", "unknown", "yes")


def gate_ids(content: Content, section: str) -> list[str]:
    return [q.id for q in content.questionnaire.questions if q.section == section]


def test_structural_proof_holds_for_every_rule(content: Content) -> None:
    # The data check that makes the properties hold for all 3^n combinations (see kiosk/safety.py).
    gate = set(gate_ids(content, "stroke") + gate_ids(content, "red_flag"))
    checked = 0
    for rule in content.rules.rules:
        for clause in rule.when.clauses:
            for qid, values in clause.tests:
                if qid in gate:
                    checked += 1
                    for higher in missing_higher(values):
                        assert raised_still_fires(content.rules, clause, qid, higher, rule.level), (rule.id, qid)
    assert checked >= len(gate)
    for qid in gate_ids(content, "stroke"):
        assert fires_alone(content.rules, qid, "yes", EMERGENCY), qid


def test_every_stroke_sign_alone_is_an_emergency_whatever_the_other_gate_answers(content: Content) -> None:
    stroke = gate_ids(content, "stroke")
    for combo in itertools.product(THREE, repeat=len(stroke)):  # all 3^6 gate combinations
        answers = dict(zip(stroke, combo))
        level = content.rules.triage(answers).level
        if "yes" in combo:
            assert level == EMERGENCY, answers
        else:
            assert rank(level) < rank(EMERGENCY) or "unknown" in combo, answers


def _levels_over(content: Content, qids: list[str], background: dict[str, str]) -> dict[tuple[str, ...], int]:
    return {combo: rank(content.rules.triage({**background, **dict(zip(qids, combo))}).level)
            for combo in itertools.product(THREE, repeat=len(qids))}


def _assert_monotone(levels: dict[tuple[str, ...], int], qids: list[str]) -> None:
    # Raising any one answer (no -> unknown -> yes) never lowers the level.
    for combo, level in levels.items():
        for i, value in enumerate(combo):
            for higher in ORDER[ORDER.index(value) + 1:]:
                raised = combo[:i] + (higher,) + combo[i + 1:]
                assert levels[raised] >= level, (dict(zip(qids, combo)), qids[i], higher)


BACKGROUNDS = [
    {},
    {"age_55": "yes", "age_65": "yes", "place": "back", "kind": "pain", "side": "middle", "onset": "sudden",
     "duration": "days", "injury": "fall"},
    {"place": "knee", "kind": "weak", "side": "left", "onset": "gradual", "duration": "months",
     "knee_swelling": "yes", "knee_hot": "yes", "knee_giving_way": "yes", "knee_more_often": "yes"},
    {"place": "leg", "kind": "weak", "side": "right", "onset": "gradual", "duration": "weeks", "numbness": "yes",
     "claudication": "yes", "diabetes": "yes"},
    {"place": "thigh", "kind": "pain", "side": "both", "onset": "gradual", "duration": "days"},
]


@pytest.mark.slow
@pytest.mark.parametrize("background", BACKGROUNDS, ids=["none", "elderly_back", "knee", "leg", "thigh_pain"])
def test_red_flags_exhaustively_monotone(content: Content, background: dict[str, str]) -> None:
    red = gate_ids(content, "red_flag")
    levels = _levels_over(content, red, background)  # all 3^12 combinations
    assert len(levels) == 3 ** len(red)
    _assert_monotone(levels, red)


def test_stroke_gate_exhaustively_monotone(content: Content) -> None:
    stroke = gate_ids(content, "stroke")
    for background in BACKGROUNDS:
        _assert_monotone(_levels_over(content, stroke, background), stroke)


def _answers_strategy(content: Content) -> st.SearchStrategy[dict[str, str]]:
    parts = {q.id: st.sampled_from(q.recorded_values) for q in content.questionnaire.questions}
    return st.fixed_dictionaries({}, optional=parts)  # type: ignore[arg-type]


CONTENT = Content.load()


@settings(max_examples=600, deadline=None)
@given(answers=_answers_strategy(CONTENT), data=st.data())
def test_raising_any_safety_answer_never_lowers_the_level(answers: dict[str, str], data: st.DataObject) -> None:
    gate = gate_ids(CONTENT, "stroke") + gate_ids(CONTENT, "red_flag")
    qid = data.draw(st.sampled_from(gate))
    low = data.draw(st.sampled_from(ORDER[:2]))
    high = data.draw(st.sampled_from(ORDER[ORDER.index(low) + 1:]))
    before = rank(CONTENT.rules.triage({**answers, qid: low}).level)
    after = rank(CONTENT.rules.triage({**answers, qid: high}).level)
    assert after >= before


@settings(max_examples=300, deadline=None)
@given(answers=_answers_strategy(CONTENT))
def test_any_stroke_yes_is_emergency_with_any_other_answers(answers: dict[str, str]) -> None:
    for qid in gate_ids(CONTENT, "stroke"):
        assert CONTENT.rules.triage({**answers, qid: "yes"}).level == EMERGENCY


def test_dialog_stops_at_once_on_each_stroke_sign(content: Content) -> None:
    for qid in gate_ids(content, "stroke"):
        run = run_session(content, by_id({qid: "yes"}, content))
        assert run.asked[-1] == qid, "no question may follow a stroke sign"
        assert run.emergency is not None and run.level == EMERGENCY
        kinds = [type(a).__name__ for a in run.batches[-1]]
        assert kinds == ["Emergency", "Understood", "Finished"]  # the prompt before anything else


COMPLAINT = ("place", "kind", "side", "onset", "duration", "injury")


def complaint_paths(content: Content) -> list[dict[str, str]]:
    """Every combination of answers to the complaint questions (where, what, side, since when, how)."""
    questions = [content.questionnaire.by_id(q) for q in COMPLAINT]
    return [dict(zip(COMPLAINT, combo)) for combo in itertools.product(*(q.answers for q in questions))]


def scripted(complaint: dict[str, str], rest: str):  # type: ignore[no-untyped-def]
    """Answer the complaint as given and every other question `rest` ("no", "yes" or "unknown"); red flags
    and stroke signs "no" unless `rest` is "unknown" (so that the check runs on to its end); "giving_way":
    all "no" but a knee that gives way."""
    from kiosk.dialog.understanding import Heard

    def answer(ask):  # type: ignore[no-untyped-def]
        value = complaint.get(ask.question_id)
        if value is None:
            yes_no = "no" in ask.answers
            if rest == "yes" and (not ask.safety_gate and yes_no):
                value = "yes"
            elif rest == "giving_way" and ask.question_id == "knee_giving_way":
                value = "yes"
            elif rest == "unknown" and not (ask.safety_gate and ask.question_id.startswith("stroke")):
                value = "unknown"
            else:
                value = "no" if yes_no else ask.answers[0]
        return Heard(value, value)

    return answer


@pytest.mark.slow
def test_every_question_path_ends_in_an_outcome_and_asks_nothing_twice(content: Content) -> None:
    seen_questions: set[str] = set()
    complaints = complaint_paths(content)
    runs = [(c, "no") for c in complaints]  # all 1,280 complaints; every 5th with all else yes / unknown too
    runs += [(c, rest) for c in complaints[::5] for rest in ("yes", "unknown", "giving_way")]
    for complaint, rest in runs:
        run = run_session(content, scripted(complaint, rest))
        assert run.finished is not None, (complaint, rest)
        assert len(run.asked) == len(set(run.asked)), (complaint, rest)
        assert run.asked[:6] == gate_ids(content, "stroke"), "the stroke gate is asked first, in full"
        seen_questions.update(run.asked)
    assert seen_questions == content.questionnaire.ids(), content.questionnaire.ids() - seen_questions


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_random_sessions_end_and_never_repeat_a_question(data: st.DataObject) -> None:
    from kiosk.dialog.understanding import Heard

    def answer(ask):  # type: ignore[no-untyped-def]
        choice = data.draw(st.sampled_from([*ask.answers, "unknown", "repeat", None, "emergency"]))
        conf = data.draw(st.floats(0.0, 1.0))
        return Heard(choice, str(choice), conf)

    run = run_session(CONTENT, answer)
    assert run.finished is not None
    assert len(run.asked) == len(set(run.asked))
    for batch in run.batches:  # nothing may be said or done before the emergency prompt
        assert not any(isinstance(a, Emergency) for a in batch) or isinstance(batch[0], Emergency)
    assert run.finished.outcome.level in ("self_care", "consult", "urgent", "emergency")


@settings(max_examples=600, deadline=None)
@given(answers=_answers_strategy(CONTENT), data=st.data())
def test_one_unknown_history_answer_never_lowers_an_urgent_level(answers: dict[str, str],
                                                                 data: st.DataObject) -> None:
    # 「わからない」 to one of side, onset, duration... when the others are known must not give less than a
    # known answer's urgent or emergency level.
    gate = set(gate_ids(CONTENT, "stroke") + gate_ids(CONTENT, "red_flag"))
    other = [q for q in CONTENT.questionnaire.questions if q.id not in gate and "unknown" in q.recorded_values]
    answers = {k: v for k, v in answers.items() if not (k in {q.id for q in other} and v == "unknown")}
    question = data.draw(st.sampled_from(other))
    known = data.draw(st.sampled_from([v for v in question.recorded_values if v != "unknown"]))
    before = rank(CONTENT.rules.triage({**answers, question.id: known}).level)
    after = rank(CONTENT.rules.triage({**answers, question.id: "unknown"}).level)
    assert before < rank(URGENT) or after >= before, (question.id, known)


@pytest.mark.parametrize("since", ["today", "yesterday"])
def test_sudden_weakness_today_or_yesterday_with_one_answer_unknown_is_an_emergency(content: Content,
                                                                                    since: str) -> None:
    # A stroke from last night is still in the treatment window: 「昨日の夜から」 is not 「数日前」.
    # Weakness or numbness (力が入らない・しびれ), after a fall too: the leg may have given way first.
    cases = [{"side": side, "onset": "sudden"} for side in ("right", "left", "both", "unknown")]
    cases += [{"side": side, "onset": "unknown"} for side in ("right", "left", "both")]
    for injury in ("no", "fall", "unknown"):
        for answers in cases:
            full = {**answers, "duration": since, "kind": "weak", "injury": injury, "place": "leg"}
            assert content.rules.triage(full).level == EMERGENCY, full
    for side in ("right", "left", "both"):
        assert content.rules.triage({"side": side, "onset": "sudden", "duration": since, "kind": "unknown",
                                     "injury": "no", "place": "thigh"}).level == EMERGENCY, side


def test_sudden_pain_or_an_injury_alone_is_never_a_stroke(content: Content) -> None:
    # Issue 20: a twisted ankle, a lifting strain, sudden knee pain, a hot knee were sent to 119 as strokes.
    for place in ("leg", "thigh", "back", "knee"):
        for side in ("right", "left"):
            for since in ("today", "yesterday"):
                for injury in ("no", "fall", "twist", "lifting"):
                    answers = {"place": place, "kind": "pain", "side": side, "onset": "sudden",
                               "duration": since, "injury": injury}
                    assert content.rules.triage(answers).level != EMERGENCY, answers
                answers = {"place": place, "kind": "weak", "side": side, "onset": "sudden", "duration": since}
                for injury in ("twist", "lifting"):
                    level = content.rules.triage({**answers, "injury": injury}).level
                    assert level == (URGENT if place != "knee" else CONSULT), (answers, injury)
                # A knee that gives way is seed 004's 膝折れ, not a stroke the gate missed.
                if place == "knee":
                    assert content.rules.triage({**answers, "injury": "no"}).level != EMERGENCY


def test_not_answering_side_onset_and_duration_at_all_is_not_an_emergency_by_itself(content: Content) -> None:
    answers = {"side": "unknown", "onset": "unknown", "duration": "unknown"}
    assert content.rules.triage(answers).level != EMERGENCY


def test_an_urgent_rule_that_ignores_unknown_stops_the_kiosk_on_load(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(content_dir(), folder)
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    edited = text.replace("one_unknown: [kind, onset, side, duration]\n", "one_unknown: [kind, onset, duration]\n")
    assert edited != text
    rules.write_text(edited, encoding="utf-8")
    with pytest.raises(ContentError, match=r"sudden_one_side_today.*'side'.*add 'unknown'"):
        Content.load(folder)


@settings(max_examples=300, deadline=None)
@given(answers=_answers_strategy(CONTENT))
def test_each_department_is_named_once(answers: dict[str, str]) -> None:
    outcome = CONTENT.outcomes.compose(CONTENT.rules.triage(answers), answers)
    assert len(outcome.departments) == len(set(outcome.departments)), outcome.departments
