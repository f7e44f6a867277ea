"""The vignette evaluation shared by tests/test_vignettes.py: runs, figures per gold level and per set, tables."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kiosk.content.bundle import Content
from kiosk.content.datafiles import data_dir
from kiosk.content.levels import EMERGENCY, LEVELS, rank
from kiosk.dialog.actions import Finished, Say
from tests.scripted import by_id, run_session

VIGNETTES = Path(__file__).parent / "data" / "vignettes.yaml"
SETS = ("tuning", "heldout")


def load_vignettes() -> list[dict[str, Any]]:
    data = yaml.safe_load(VIGNETTES.read_text(encoding="utf-8"))
    return [{**v, "answers": {**data["defaults"], **v["answers"]}} for v in data["vignettes"]]


@dataclass(frozen=True)
class Result:
    """One vignette through the real dialog: the level, where it sends first, questions asked, seconds said."""

    vignette: dict[str, Any]
    level: str
    go_first: str
    questions: int
    short_seconds: float
    """The spoken outcome before 「くわしく聞きますか」, on the pre-rendered prompt audio."""

    @property
    def gold(self) -> str:
        return str(self.vignette["gold"])

    @property
    def steps(self) -> int:
        """Levels above (+) or below (-) the gold level."""
        return rank(self.level) - rank(self.gold)


def prompt_seconds() -> dict[str, float]:
    manifest = json.loads((data_dir("audio_prompts") / "manifest.json").read_text(encoding="utf-8"))
    return {prompt_id: float(entry["seconds"]) for prompt_id, entry in manifest.items()}


def evaluate(content: Content) -> list[Result]:
    seconds = prompt_seconds()
    results = []
    for v in load_vignettes():
        run = run_session(content, by_id(v["answers"], content))
        assert run.finished is not None
        finished_at = next(i for i, a in enumerate(run.actions) if isinstance(a, Finished))
        said = [a for a in run.actions[:finished_at] if isinstance(a, Say) and a.kind == "outcome"]
        short = sum(seconds.get(p, 0.0) for a in said for p in a.prompts)
        go_first = run.finished.outcome.go_first
        results.append(Result(v, run.level, go_first[0] if go_first else "", len(run.asked), short))
    return results


def figures(results: list[Result]) -> dict[str, Any]:
    """exact, over (by how many levels), under, safe share and 119 for stories that are not emergencies."""
    n = len(results)
    over = [r.steps for r in results if r.steps > 0]
    return {
        "n": n,
        "exact": sum(r.steps == 0 for r in results),
        "over": {steps: over.count(steps) for steps in sorted(set(over))},
        "under": sum(r.steps < 0 for r in results),
        "safe": sum(r.steps >= -1 for r in results),
        "emergency_under": sum(r.steps < 0 and r.gold == EMERGENCY for r in results),
        "needless_119": sum(r.level == EMERGENCY and r.gold != EMERGENCY for r in results),
        "department_wrong": [r.vignette["id"] for r in results
                             if r.vignette.get("department") and r.vignette["department"] != r.go_first],
    }


def _cell(f: dict[str, Any]) -> str:
    if not f["n"]:
        return "-"
    over = " ".join(f"+{k}:{v}" for k, v in f["over"].items()) or "0"
    return (f"{f['n']:3d} exact {f['exact']:3d} ({f['exact'] / f['n']:4.0%}) over {over:9s} under {f['under']} "
            f"safe {f['safe'] / f['n']:4.0%} 119 {f['needless_119']}")


def table(results: list[Result]) -> str:
    """Per gold level, tuning and held-out side by side; then questions asked and the seconds said."""
    lines = [f"{'gold':10s} | {'tuning':62s} | held-out"]
    for gold in (*reversed(LEVELS), "all"):
        cells = [_cell(figures([r for r in results if r.vignette["set"] == s and gold in (r.gold, "all")]))
                 for s in SETS]
        lines.append(f"{gold:10s} | {cells[0]:62s} | {cells[1]}")
    for s in SETS:
        mine = [r for r in results if r.vignette["set"] == s]
        asked = [r.questions for r in mine if r.level != EMERGENCY]
        said = [r.short_seconds for r in mine if r.level != EMERGENCY]
        wrong = figures(mine)["department_wrong"]
        lines.append(f"{s}: questions (not 119) min {min(asked)} median {statistics.median(asked)} max {max(asked)};"
                     f" spoken outcome before 「くわしく聞きますか」 median {statistics.median(said):.1f} s, max "
                     f"{max(said):.1f} s; first department wrong: {len(wrong)} {wrong}")
    return "\n".join(lines)


def per_vignette(results: list[Result]) -> str:
    return "\n".join(f"  {r.vignette['set']:7s} {r.vignette['id']:45s} gold {r.gold:9s} got {r.level:9s} "
                     f"{r.go_first:8s} q {r.questions:2d} said {r.short_seconds:4.1f} s" for r in results)
