"""Which questions are still worth asking: those whose answer could still change the outcome.

Computed from the rule and advice data alone (no list of questions to skip). Questions are taken in order;
when one is reached, every earlier question is decided (answered, or skipped and so absent) and every later
one is open. A clause of a rule or an advice item is *alive* when each of its tests on a decided question
holds; its tests on open questions might still hold. Every test is "this question has one of these answers",
so a clause with no alive chance can never hold, whatever is answered from here on.

A question is asked when it is in an alive clause that could change (or when a later question that is asked
only after certain answers to it could)
- the level: a rule not yet fired, above the level already reached (which can only rise);
- the departments: a rule not yet fired that would name a department not yet named at its level or above;
- the advice: an item that is not yet settled (excluded by the level, given or withheld for sure).
If it is in none, no answer to it — and no skipping of it — can change the level, the departments or the
advice; only the list of reasons may be shorter. tests/test_relevance.py checks this on every path.

The stroke gate is always asked in full (CLINICAL.md: first, of everyone). A red flag is skipped only where no
rule that uses it can fire any more — where it cannot apply to this complaint (rules.yaml ties each red flag's
rules to the complaints CLINICAL.md gives it for), or where the same finding already fired — and no advice
still depends on it (no stretching with pain at night, seed 003).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.content.conditions import Clause, Condition
from kiosk.content.levels import SELF_CARE, rank
from kiosk.content.outcome import Advice, OutcomeContent
from kiosk.content.questionnaire import Question, Questionnaire
from kiosk.content.triage import Rule, RuleSet


def alive(clause: Clause, answers: Mapping[str, str], decided: frozenset[str]) -> bool:
    """The clause can still hold: every test on a decided question holds already."""
    return all(answers.get(q) in allowed for q, allowed in clause.tests if q in decided)


def _alive_with(condition: Condition, qid: str, answers: Mapping[str, str], decided: frozenset[str]) -> bool:
    return any(qid in dict(c.tests) and alive(c, answers, decided) for c in condition.clauses)


@dataclass(frozen=True)
class Relevance:
    """Picks the next question worth asking."""

    questionnaire: Questionnaire
    rules: RuleSet
    outcomes: OutcomeContent

    def next_question(self, answers: Mapping[str, str], after: str | None) -> Question | None:
        """The first question after `after` (None: from the start) that applies and could still matter."""
        ids = [q.id for q in self.questionnaire.questions]
        start = 0 if after is None else ids.index(after) + 1
        for index in range(start, len(ids)):
            q = self.questionnaire.questions[index]
            if q.ask_if.holds(answers) and self.could_matter(q, answers, frozenset(ids[:index])):
                return q
        return None

    def could_matter(self, q: Question, answers: Mapping[str, str], decided: frozenset[str]) -> bool:
        """Some answer to `q` could still change the level, the departments or the advice — itself, or by
        opening a later question that could (「55歳を超えていますか」 opens 「65歳以上ですか」)."""
        if self._matters(q, answers, decided):
            return True
        later = self.questionnaire.questions[self.questionnaire.questions.index(q) + 1:]
        return any(q.id in p.ask_if.questions() and self.could_matter(p, answers, decided) for p in later)

    def _matters(self, q: Question, answers: Mapping[str, str], decided: frozenset[str]) -> bool:
        if q.section == "stroke":
            return True
        triage = self.rules.triage(answers)
        fired = {r.id for r in triage.fired}
        unfired = [r for r in self.rules.rules if r.id not in fired and _alive_with(r.when, q.id, answers, decided)]
        if q.section == "red_flag" and unfired:
            return True  # its finding could still be made for this complaint, whatever the level already is
        for rule in unfired if q.section != "red_flag" else ():
            if rank(rule.level) > rank(triage.level):
                return True
            if (rule.level != SELF_CARE or triage.level == SELF_CARE) and not set(rule.departments) <= _named(
                    triage.fired, triage.level, rule.level):
                return True
        return any(_unsettled(a, q.id, answers, decided, triage.level) for a in self.outcomes.advice)


def _named(fired: tuple[Rule, ...], level: str, at_least: str) -> set[str]:
    """Departments already named by fired rules at or above `at_least` (self-care places drop above 白)."""
    return {d for r in fired if rank(r.level) >= rank(at_least) and (r.level != SELF_CARE or level == SELF_CARE)
            for d in r.departments}


def _unsettled(advice: Advice, qid: str, answers: Mapping[str, str], decided: frozenset[str], level: str) -> bool:
    """`qid` could still decide whether this advice is given."""
    if rank(level) > rank(advice.max_level):
        return False  # the level only rises: never given
    when_true = advice.when.holds(answers)
    when_dead = not advice.when.always and not any(alive(c, answers, decided) for c in advice.when.clauses)
    unless = advice.unless or Condition()
    unless_true = advice.unless is not None and unless.holds(answers)
    if unless_true:
        return False
    if not when_true and _alive_with(advice.when, qid, answers, decided):
        return True
    return not when_dead and advice.unless is not None and _alive_with(unless, qid, answers, decided)
