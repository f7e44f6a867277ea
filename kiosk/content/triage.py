"""Triage: a pure function from answers to a level, driven by the rules in `content/rules.yaml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kiosk.content.conditions import Clause, Condition, parse_condition
from kiosk.content.levels import LEVELS, SELF_CARE, rank
from kiosk.content.phrases import UNKNOWN
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
    reason_unsure: str | None = None
    """Said instead of `reason` when the rule holds only through 「わからない」 answers: a reason never states
    what the person did not say (「熱がある」 for a fever they could not tell)."""

    def sure(self, answers: Mapping[str, str]) -> bool:
        """The rule holds without a 「わからない」 standing in for what its reason states."""
        return any(clause.holds(answers) and not any(answers.get(q) == UNKNOWN and _asserts(values)
                                                     for q, values in clause.tests)
                   for clause in self.when.clauses)


@dataclass(frozen=True)
class Reason:
    """Why a rule fired, as said: its prompt id (reason.<rule> or reason.<rule>.unsure) and text."""

    rule: Rule
    prompt: str
    text: str


@dataclass(frozen=True)
class Triage:
    """The level and the rules that led to it (highest level first, then file order)."""

    level: str
    fired: tuple[Rule, ...]
    answers: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def explained(self) -> tuple[Reason, ...]:
        """One Reason per fired rule, in the same order (worked out only when asked for: the safety tests
        triage millions of answer sets and need only the level)."""
        return tuple(_explain(r, self.answers) for r in self.fired)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r.text for r in self.explained)


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
        for rid, item in top.id_items("rules", ("when", "one_unknown", "level", "departments", "reason",
                                                "reason_unsure", "source")):
            level = item.text("level")
            if level not in LEVELS:
                raise item.error("level", f"'{level}' is not one of {', '.join(LEVELS)}")
            when = parse_condition(item, "when")
            if when.always:
                raise item.error("when", "is required: a rule that always fires hides the others")
            when = _with_one_unknown(when, item.text_list("one_unknown", []))
            unsure = item.opt_text("reason_unsure")
            about_unknown = all(any(values == {UNKNOWN} for _, values in c.tests) for c in when.clauses)
            if not about_unknown and unsure is None and any(UNKNOWN in v and _asserts(v)
                                                            for _, v in when.literals()):
                raise item.error("reason_unsure", "is required: the rule also fires on 'unknown' answers, and "
                                                  "its reason must not state what was not said")
            rules.append(Rule(rid, when, level, item.text_list("departments"), item.text("reason"),
                              item.text("source"), unsure))
        return cls(tuple(rules))

    def triage(self, answers: Mapping[str, str]) -> Triage:
        """The highest level among the rules that fire; self_care when none does."""
        get = answers.get
        fired = []
        for rule in self.rules:  # plain loops: the safety tests triage millions of answer sets
            for clause in rule.when.clauses:
                for qid, allowed in clause.tests:
                    if get(qid) not in allowed:
                        break
                else:
                    fired.append(rule)
                    break
        fired.sort(key=lambda r: -rank(r.level))  # stable: file order within a level
        return Triage(fired[0].level if fired else SELF_CARE, tuple(fired), dict(answers))


def _asserts(values: frozenset[str]) -> bool:
    """A test whose 「わからない」 stands in for what the reason says: a "yes" (「熱がある」), or a question
    that may be unknown on its own (one_unknown). 「わからない」 in a list of places only widens where a
    rule applies, and its reason says nothing of the place."""
    return UNKNOWN in values and ("yes" in values or values == {UNKNOWN})


def _with_one_unknown(when: Condition, questions: tuple[str, ...]) -> Condition:
    """`one_unknown: [side, onset]`: each clause also holds with any one of these questions 「わからない」 and
    the rest as written (never several at once: a person who can answer none of them is not sent to 119 for
    that alone)."""
    clauses = list(when.clauses)
    for clause in when.clauses:
        for qid in questions:
            tests = dict(clause.tests)
            if qid in tests and UNKNOWN not in tests[qid]:
                variant = Clause(tuple((q, frozenset({UNKNOWN}) if q == qid else v) for q, v in clause.tests))
                if variant not in clauses:
                    clauses.append(variant)
    return Condition(tuple(clauses))


def _explain(rule: Rule, answers: Mapping[str, str]) -> Reason:
    if rule.reason_unsure is None or rule.sure(answers):
        return Reason(rule, f"reason.{rule.id}", rule.reason)
    return Reason(rule, f"reason.{rule.id}.unsure", rule.reason_unsure)
