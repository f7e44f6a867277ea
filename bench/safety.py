"""Triage safety on the vignette suite (tests/data/vignettes.yaml), through the real dialog and rules.

The same evaluation as tests/test_vignettes.py: a vignette is *safe* when the kiosk's level is at most one
step below the gold level (rank(level) >= rank(gold) - 1); *under-triaged* when it is below gold at all.
"""

from __future__ import annotations

from typing import Any

import yaml

from bench.common import VIGNETTES
from kiosk.content.bundle import Content
from kiosk.content.levels import EMERGENCY, rank


def load_vignettes() -> list[dict[str, Any]]:
    data = yaml.safe_load(VIGNETTES.read_text(encoding="utf-8"))
    return [{**v, "answers": {**data["defaults"], **v["answers"]}} for v in data["vignettes"]]


def run() -> dict[str, Any]:
    from tests.scripted import by_id, run_session

    content = Content.load()
    results = [(v, run_session(content, by_id(v["answers"], content)).level) for v in load_vignettes()]
    safe = [v["id"] for v, level in results if rank(level) >= rank(v["gold"]) - 1]
    under = [{"id": v["id"], "gold": v["gold"], "level": level} for v, level in results
             if rank(level) < rank(v["gold"])]
    over = [{"id": v["id"], "gold": v["gold"], "level": level} for v, level in results
            if rank(level) > rank(v["gold"])]
    exact = sum(1 for v, level in results if level == v["gold"])
    return {
        "n": len(results),
        "safe": len(safe),
        "safe_share": len(safe) / len(results) if results else None,
        "exact": exact,
        "under_triaged": len(under),
        "under_triaged_cases": under,
        "under_triaged_emergencies": sum(1 for u in under if u["gold"] == EMERGENCY),
        "over_triaged": len(over),
        "over_triaged_cases": over,
    }
