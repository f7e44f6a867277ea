"""Triage: a pure function from answers to a level, driven by the rules in `content/rules.yaml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.content.conditions import Condition, parse_condition
from kiosk.content.levels import LEVELS, SELF_CARE, rank
from kiosk.content.yamlfile import Fields, load_yaml


@dataclass(frozen=True)
class Rule:
    """When `when` holds, the outcome is at least `level`, for `reason`."""

    id: str
    when: Condition
    level: str
    departments: tuple[str, ...]
    reason: str
    source: str


@dataclass(frozen=True)
class Triage:
    """The level and the rules that led to it (highest level first, then file order)."""

    level: str
    fired: tuple[Rule, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r.reason for r in self.fired)


@dataclass(frozen=True)
class RuleSet:
    """All triage rules, in file order."""

    rules: tuple[Rule, ...]

    @classmethod
    def load(cls, path: Path) -> RuleSet:
        file = str(path)
        top = Fields(file, "(top level)", load_yaml(path))
        top.only("levels", "rules")
        if tuple(top.text_list("levels")) != LEVELS:
            raise top.error("levels", f"must be exactly {list(LEVELS)} (lowest first)")
        rules: list[Rule] = []
        for rid, item in top.id_items("rules", ("when", "level", "departments", "reason", "source")):
            level = item.text("level")
            if level not in LEVELS:
                raise item.error("level", f"'{level}' is not one of {', '.join(LEVELS)}")
            when = parse_condition(item, "when")
            if when.always:
                raise item.error("when", "is required: a rule that always fires hides the others")
            rules.append(Rule(rid, when, level, item.text_list("departments"), item.text("reason"),
                              item.text("source")))
        return cls(tuple(rules))

    def triage(self, answers: Mapping[str, str]) -> Triage:
        """The highest level among the rules that fire; self_care when none does."""
        fired = [r for r in self.rules if r.when.holds(answers)]
        fired.sort(key=lambda r: -rank(r.level))  # stable: file order within a level
        return Triage(fired[0].level if fired else SELF_CARE, tuple(fired))
