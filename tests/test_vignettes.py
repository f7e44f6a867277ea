"""Clinical vignettes through the real dialog and rules: share of safe outcomes and under-triage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kiosk.content.bundle import Content
from kiosk.content.levels import EMERGENCY, LEVELS, rank
from tests.scripted import by_id, run_session

VIGNETTES = Path(__file__).parent / "data" / "vignettes.yaml"


def load_vignettes() -> list[dict[str, Any]]:
    data = yaml.safe_load(VIGNETTES.read_text(encoding="utf-8"))
    return [{**v, "answers": {**data["defaults"], **v["answers"]}} for v in data["vignettes"]]


def evaluate(content: Content) -> list[tuple[dict[str, Any], str]]:
    return [(v, run_session(content, by_id(v["answers"], content)).level) for v in load_vignettes()]


def test_vignette_file_is_complete(content: Content) -> None:
    vignettes = load_vignettes()
    assert len(vignettes) >= 40
    ids = [v["id"] for v in vignettes]
    assert len(ids) == len(set(ids))
    for v in vignettes:
        assert v["gold"] in LEVELS, v["id"]
        assert v["source"].startswith(("0", "CLINICAL.md")), v["id"]
        for qid, value in v["answers"].items():
            q = content.questionnaire.by_id(qid)
            assert value in (*q.recorded_values, "emergency"), (v["id"], qid, value)
    covered = {v["gold"] for v in vignettes}
    assert covered == set(LEVELS)
    for must in ("leg_only_stroke", "cauda_equina_retention", "compression_fracture_fall",
                 "knee_giving_way_more_often", "muscle_fatigue"):
        assert must in ids


def test_vignettes_are_safe_and_no_emergency_is_under_triaged(content: Content,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    results = evaluate(content)
    safe = [v for v, level in results if rank(level) >= rank(v["gold"]) - 1]
    under = [(v["id"], v["gold"], level) for v, level in results if rank(level) < rank(v["gold"])]
    over = [(v["id"], v["gold"], level) for v, level in results if rank(level) > rank(v["gold"])]
    exact = sum(1 for v, level in results if level == v["gold"])
    missed_emergencies = [u for u in under if u[1] == EMERGENCY]
    with capsys.disabled():
        print(f"\nvignettes: {len(results)}, safe {len(safe)}/{len(results)} ({len(safe) / len(results):.0%}), "
              f"exact {exact}, under-triaged {len(under)} {under}, over-triaged {len(over)} {over}")
    assert not missed_emergencies, missed_emergencies
    assert len(safe) == len(results)


@pytest.mark.parametrize("vignette", load_vignettes(), ids=lambda v: v["id"])
def test_each_vignette(content: Content, vignette: dict[str, Any]) -> None:
    run = run_session(content, by_id(vignette["answers"], content))
    assert rank(run.level) >= rank(vignette["gold"]), (vignette["story"], run.level)
    if vignette["gold"] == EMERGENCY:
        assert run.emergency is not None, "an emergency must start the emergency prompt"
