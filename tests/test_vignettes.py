"""Clinical vignettes through the real dialog and rules, reported per gold level on tuning and held-out stories.

The held-out stories (set: heldout) were written with the others before the rules of issue 20 and never
tuned on: their figures are the ones that judge the rules. Both sets must be safe with no emergency missed and
no 119 for a story that is not an emergency; at least 90 % must be exactly right over all stories.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.content.bundle import Content
from kiosk.content.levels import EMERGENCY, LEVELS, rank
from tests.scripted import by_id, run_session
from tests.vignette_report import SETS, Result, evaluate, figures, load_vignettes, per_vignette, table


@pytest.fixture(scope="module")
def results(content: Content) -> list[Result]:
    return evaluate(content)


def test_vignette_file_is_complete(content: Content) -> None:
    vignettes = load_vignettes()
    assert len(vignettes) >= 85
    ids = [v["id"] for v in vignettes]
    assert len(ids) == len(set(ids))
    for v in vignettes:
        assert v["gold"] in LEVELS and v["set"] in SETS, v["id"]
        assert v["source"].startswith(("0", "CLINICAL.md")), v["id"]
        for qid, value in v["answers"].items():
            q = content.questionnaire.by_id(qid)
            assert value in (*q.recorded_values, "emergency"), (v["id"], qid, value)
    for s in SETS:
        assert {v["gold"] for v in vignettes if v["set"] == s} == set(LEVELS), s
    assert sum(v["set"] == "heldout" for v in vignettes) >= 20
    for must in ("leg_only_stroke", "cauda_equina_retention", "compression_fracture_fall",
                 "knee_giving_way_more_often", "muscle_fatigue", "twisted_ankle_today", "hot_knee_fever",
                 "old_stroke_residual_knee", "tia_weeks_ago", "stenosis_chronic_legs", "diabetic_feet_numb",
                 "chronic_incontinence_back", "frail_elderly_legs", "middle_back_weeks",
                 "one_leg_weak_with_back_pain"):
        assert must in ids


def test_vignettes_are_safe_and_no_emergency_is_under_triaged(results: list[Result],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\nvignettes, per gold level (over: levels too high:count; 119: emergency for a story that is "
              f"not one)\n{table(results)}\n{per_vignette(results)}")
    for s in SETS:
        f = figures([r for r in results if r.vignette["set"] == s])
        assert f["emergency_under"] == 0, s
        assert f["safe"] == f["n"], s
        assert f["needless_119"] == 0, f"{s}: a consult or self-care story sent to 119"
    everything = figures(results)
    assert everything["exact"] >= 0.9 * everything["n"], everything
    assert not figures([r for r in results if r.vignette["set"] == "tuning"])["department_wrong"]


def test_the_spoken_outcome_takes_under_30_seconds(results: list[Result]) -> None:
    # Measured on the pre-rendered prompt audio (content length, not a timing of this machine).
    longest = max(results, key=lambda r: r.short_seconds)
    assert longest.short_seconds < 30.0, (longest.vignette["id"], longest.short_seconds)


@pytest.mark.parametrize("vignette", load_vignettes(), ids=lambda v: v["id"])
def test_each_vignette(content: Content, vignette: dict[str, Any]) -> None:
    run = run_session(content, by_id(vignette["answers"], content))
    assert rank(run.level) >= rank(vignette["gold"]) - 1, (vignette["story"], run.level)
    if vignette["gold"] == EMERGENCY:
        assert run.emergency is not None, "an emergency must start the emergency prompt"
    else:
        assert run.level != EMERGENCY, "no 119 for a story that is not an emergency"
