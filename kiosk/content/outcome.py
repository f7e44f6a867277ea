"""Outcome content (levels, departments) and the guidance composed for one person."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.content.conditions import Condition, parse_condition
from kiosk.content.levels import EMERGENCY, LEVELS, SELF_CARE, rank
from kiosk.content.safety_manifest import SELF_CARE_ONLY_DEPARTMENTS
from kiosk.content.triage import Triage
from kiosk.content.yamlfile import Fields, load_yaml


@dataclass(frozen=True)
class Level:
    """How a level is named, spoken, and what to watch for afterwards."""

    id: str
    colour: str
    label: str
    speech: str
    default_departments: tuple[str, ...]
    see_doctor_if: tuple[str, ...]
    go: tuple[str, str] = ("", "")
    """The short spoken outcome's first sentence, said around the departments: the level and where to go
    (「2時間以内をめやすに、」 整形外科 「を、受診してください。」)."""


@dataclass(frozen=True)
class Advice:
    """One piece of safe self-care advice and to whom it applies."""

    id: str
    when: Condition
    min_level: str
    max_level: str
    text: str
    source: str
    unless: Condition | None = None
    """Not given when this holds (a stretch with pain at night, a floor exercise for someone who nearly falls)."""

    def applies(self, level: str, answers: Mapping[str, str]) -> bool:
        return (rank(self.min_level) <= rank(level) <= rank(self.max_level) and self.when.holds(answers)
                and not (self.unless is not None and self.unless.holds(answers)))


@dataclass(frozen=True)
class Outcome:
    """What the person is told at the end: level, where to go, why, and what they can do."""

    level: str
    colour: str
    label: str
    speech: str
    departments: tuple[str, ...]
    department_names: tuple[str, ...]
    reasons: tuple[str, ...]
    rule_ids: tuple[str, ...]
    advice: tuple[Advice, ...]
    see_doctor_if: tuple[str, ...]
    reason_prompts: tuple[str, ...] = ()
    """The prompt id of each reason (reason.<rule>, or reason.<rule>.unsure when said as uncertain)."""
    go_first: tuple[str, ...] = ()
    """Where to go first: the departments of the rule that set the level (all of them are in departments)."""


@dataclass(frozen=True)
class OutcomeContent:
    """Levels and departments from `outcomes.yaml`, advice from `advice.yaml`."""

    levels: dict[str, Level]
    departments: dict[str, str]
    advice: tuple[Advice, ...]

    @classmethod
    def load(cls, outcomes_path: Path, advice_path: Path) -> OutcomeContent:
        file = str(outcomes_path)
        top = Fields(file, "(top level)", load_yaml(outcomes_path))
        top.only("levels", "departments")
        departments: dict[str, str] = {}
        for did, raw in top.mapping("departments").items():
            item = Fields(file, f"departments.{did}", raw)
            item.only("name", "source")
            item.text("source")
            departments[str(did)] = item.text("name")
        levels: dict[str, Level] = {}
        raw_levels = top.mapping("levels")
        for lid in LEVELS:
            if lid not in raw_levels:
                raise top.error("levels", f"level '{lid}' is missing")
            item = Fields(file, f"levels.{lid}", raw_levels[lid])
            item.only("colour", "label", "speech", "go", "default_departments", "see_doctor_if", "source")
            item.text("source")
            defaults = item.text_list("default_departments")
            for d in defaults:
                if d not in departments:
                    raise item.error("default_departments", f"unknown department '{d}'")
            go = item.text_list("go", ["", ""]) if lid != EMERGENCY else ("", "")
            if len(go) != 2 or (lid != EMERGENCY and not all(go)):
                raise item.error("go", "must be two texts, said before and after the departments' names")
            levels[lid] = Level(lid, item.text("colour"), item.text("label"), item.text("speech"), defaults,
                                item.text_list("see_doctor_if", []), (go[0], go[1]))
        return cls(levels, departments, _load_advice(advice_path))

    def compose(self, triage: Triage, answers: Mapping[str, str], at_least: str = SELF_CARE) -> Outcome:
        """The guidance for this triage result and these answers; `at_least` raises the level (an emergency
        raised by a call for help), and the departments then fit the raised level."""
        lid = max(triage.level, at_least, key=rank)
        level = self.levels[lid]
        # Self-care reasons (「筋肉の疲れや姿勢」) and places (整骨院) are not said beside a reason to see a
        # doctor: they would soften it, and 整骨院 is not a medical institution.
        fired = [r for r in triage.explained if r.rule.level != SELF_CARE or lid == SELF_CARE]
        raised = level.default_departments if lid != triage.level else ()
        # The top level's departments first (a raised level's own defaults), then the others', each named once.
        departments = _unique([*(d for r in fired if r.rule.level == lid for d in r.rule.departments), *raised,
                               *(d for r in fired for d in r.rule.departments)])
        if lid != SELF_CARE:
            departments = tuple(d for d in departments if d not in SELF_CARE_ONLY_DEPARTMENTS)
        if not departments:
            departments = level.default_departments
        top = fired[0].rule.departments if fired and fired[0].rule.level == lid else level.default_departments
        go_first = tuple(d for d in top if d in departments) or departments[:1]
        advice = () if lid == EMERGENCY else tuple(a for a in self.advice if a.applies(lid, answers))
        return Outcome(
            level=lid, colour=level.colour, label=level.label, speech=level.speech,
            departments=departments, department_names=tuple(self.departments[d] for d in departments),
            reasons=tuple(r.text for r in fired), rule_ids=tuple(r.rule.id for r in fired), advice=advice,
            see_doctor_if=level.see_doctor_if, reason_prompts=tuple(r.prompt for r in fired), go_first=go_first,
        )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _load_advice(path: Path) -> tuple[Advice, ...]:
    file = str(path)
    top = Fields(file, "(top level)", load_yaml(path))
    top.only("advice")
    items: list[Advice] = []
    for aid, item in top.id_items("advice", ("when", "unless", "min_level", "max_level", "text", "source"),
                                  non_empty=False):
        lo, hi = item.text("min_level", "self_care"), item.text("max_level")
        for field, value in (("min_level", lo), ("max_level", hi)):
            if value not in LEVELS or value == EMERGENCY:
                raise item.error(field, f"'{value}' must be a level below emergency")
        unless = parse_condition(item, "unless") if "unless" in item.raw else None
        items.append(Advice(aid, parse_condition(item, "when"), lo, hi, item.text("text"), item.text("source"),
                            unless))
    return tuple(items)
