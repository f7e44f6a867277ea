"""Safety invariants of the rules, proven over all answer combinations by checking the rule data itself.

The level is the maximum over rules, and each rule is an OR of ANDs of "question has one of these answers".
Order the answers of stroke and red-flag questions no < unknown < yes. A test of such a question is safe
when it also accepts every higher answer, or when for each higher answer it leaves out some rule of at least
the same level has a clause that holds with that answer wherever this clause's other tests hold (the same
questions, with at least the same answers: a red flag tied to a complaint, 「腰や足」, is checked under it).
Then raising an answer can switch a rule off only where an equal or higher rule switches on, so the maximum
never falls: "yes" instead of "no" never lowers the level, and "unknown"
never gives less than "no", whatever the other answers are. These checks run when content loads, so an edit
that breaks them stops the kiosk instead of reaching a patient. In urgent and emergency rules, one
"unknown" among otherwise known answers of the other questions (side, onset, duration...) must never give
less than the known answer would.
"""

from __future__ import annotations

from kiosk.content.conditions import Clause
from kiosk.content.levels import EMERGENCY, URGENT, rank
from kiosk.content.phrases import UNKNOWN
from kiosk.content.questionnaire import Questionnaire
from kiosk.content.triage import RuleSet
from kiosk.errors import ContentError

ORDER = ("no", "unknown", "yes")


def missing_higher(values: frozenset[str]) -> list[str]:
    """Answers above the lowest accepted one (in no < unknown < yes) that the test does not accept."""
    ranks = [ORDER.index(v) for v in values if v in ORDER]
    if not ranks:
        return []
    return [ORDER[r] for r in range(min(ranks), len(ORDER)) if ORDER[r] not in values]


def fires_alone(rules: RuleSet, qid: str, answer: str, at_least: str) -> bool:
    """Some rule of level >= `at_least` fires whenever `qid` == `answer`, whatever else was answered."""
    return any(rank(r.level) >= rank(at_least) and any(
        len(c.tests) == 1 and c.tests[0][0] == qid and answer in c.tests[0][1] for c in r.when.clauses)
        for r in rules.rules)


def raised_still_fires(rules: RuleSet, clause: Clause, qid: str, answer: str, at_least: str) -> bool:
    """With `qid` raised to `answer` and the clause's other tests holding, a rule of >= `at_least` fires."""
    others = {q: values for q, values in clause.tests if q != qid}
    return any(rank(r.level) >= rank(at_least) and any(
        answer in dict(c.tests).get(qid, frozenset()) and all(
            q == qid or (q in others and others[q] <= values) for q, values in c.tests) for c in r.when.clauses)
        for r in rules.rules)


def check_rules(questionnaire: Questionnaire, rules: RuleSet, rules_file: str, questions_file: str) -> None:
    """Raise ContentError naming the rule or question that breaks a safety invariant."""
    gate = {q.id for q in questionnaire.questions if q.is_safety_gate}
    stroke = [q.id for q in questionnaire.questions if q.section == "stroke"]
    for rule in rules.rules:
        for clause in rule.when.clauses:
            for qid, values in clause.tests:
                if qid not in gate:
                    continue
                for higher in missing_higher(values):
                    if raised_still_fires(rules, clause, qid, higher, rule.level):
                        continue
                    raise ContentError(
                        rules_file, rule.id, "when",
                        f"fires on '{qid}' in {sorted(values)} but not on the higher answer '{higher}', and no "
                        f"rule of level {rule.level} or above fires on '{higher}' with the same other answers: "
                        f"answering '{higher}' could lower the level (order no < unknown < yes)")
    history = {q.id for q in questionnaire.questions if q.id not in gate and UNKNOWN in q.recorded_values}
    for rule in rules.rules:
        if rank(rule.level) < rank(URGENT):
            continue
        for clause in rule.when.clauses:
            for qid, values in clause.tests:
                if qid in history and UNKNOWN not in values and not _covered(rules, rule.level, clause, qid):
                    raise ContentError(
                        rules_file, rule.id, "when",
                        f"fires on '{qid}' in {sorted(values)} but, with its other answers known, no rule of level "
                        f"{rule.level} or above fires when '{qid}' is 'unknown': a person who cannot say would "
                        f"get a lower level; add 'unknown' to that test or a rule for it")
    for qid in stroke:
        if not fires_alone(rules, qid, "yes", EMERGENCY):
            raise ContentError(rules_file, qid, "when",
                               f"no emergency rule fires on '{qid}' = yes by itself: every stroke sign means 119")
    for q in questionnaire.questions:
        # A question skipped because of a red-flag answer could hide a finding: forbid it.
        used = q.ask_if.questions() & gate
        if used:
            raise ContentError(questions_file, q.id, "ask_if",
                               f"depends on stroke/red-flag answers {sorted(used)}; those must not skip questions")


def _covered(rules: RuleSet, level: str, clause: Clause, qid: str) -> bool:
    """With `qid` unknown and the clause's other answers known, some rule of >= `level` still fires.

    Only one unknown at a time: taking each unknown as the worst answer in turn would send a person who can
    answer none of side, onset and duration to 119 for that alone.
    """
    known = {q: values - {UNKNOWN} for q, values in clause.tests if q != qid}
    if any(not values for values in known.values()):
        return True  # the clause needs another unknown as well: not a case of one unknown among known answers
    for other in rules.rules:
        if rank(other.level) < rank(level):
            continue
        for candidate in other.when.clauses:
            tests = dict(candidate.tests)
            if UNKNOWN in tests.get(qid, frozenset({UNKNOWN})) and all(
                    q in known and known[q] <= allowed for q, allowed in tests.items() if q != qid):
                return True
    return False
