"""Conditions on answers, as used by `ask_if`, rule `when` and advice `when`: an OR of ANDs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.content.yamlfile import Fields, bare_bool_hint

# YAML shape:  when: [{q1: [yes], q2: [left, right]}, {q3: [yes, unknown]}]
# (a single mapping is accepted as a one-alternative list)


@dataclass(frozen=True)
class Clause:
    """All of these questions have one of the listed answers."""

    tests: tuple[tuple[str, frozenset[str]], ...]

    def holds(self, answers: Mapping[str, str]) -> bool:
        for qid, allowed in self.tests:  # a plain loop: triage runs this ~10^6 times in the safety tests
            if answers.get(qid) not in allowed:
                return False
        return True


@dataclass(frozen=True)
class Condition:
    """True when any clause holds; an empty condition is always true."""

    clauses: tuple[Clause, ...] = ()

    def holds(self, answers: Mapping[str, str]) -> bool:
        if not self.clauses:
            return True
        for clause in self.clauses:
            if clause.holds(answers):
                return True
        return False

    @property
    def always(self) -> bool:
        return not self.clauses

    def questions(self) -> set[str]:
        return {qid for clause in self.clauses for qid, _ in clause.tests}

    def literals(self) -> list[tuple[str, frozenset[str]]]:
        return [test for clause in self.clauses for test in clause.tests]


def parse_condition(fields: Fields, field: str) -> Condition:
    """Read `field` of an item as a Condition; missing means always true."""
    raw: Any = fields.raw.get(field)
    if raw is None:
        return Condition()
    alternatives = [raw] if isinstance(raw, dict) else raw
    if not isinstance(alternatives, list) or not alternatives:
        raise fields.error(field, "must be a mapping or a non-empty list of mappings {question: [answers]}")
    clauses = []
    for alt in alternatives:
        if not isinstance(alt, dict) or not alt:
            raise fields.error(field, "each alternative must be a non-empty mapping {question: [answers]}")
        tests = []
        for qid, values in alt.items():
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise fields.error(field, f"answers for '{qid}' must be a non-empty list of answer values"
                                   + bare_bool_hint(values))
            tests.append((str(qid), frozenset(values)))
        clauses.append(Clause(tuple(tests)))
    return Condition(tuple(clauses))
