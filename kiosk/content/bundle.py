"""All content of the kiosk loaded together and cross-checked: questions, rules, outcomes, speech, phrases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.content.conditions import Condition
from kiosk.content.datafiles import content_dir
from kiosk.content.outcome import OutcomeContent
from kiosk.content.phrases import AnswerPhrases
from kiosk.content.questionnaire import Question, Questionnaire
from kiosk.content.relevance import Relevance
from kiosk.content.safety import check_manifest_questions, check_manifest_rules, check_rules
from kiosk.content.speech import SpeechTexts
from kiosk.content.triage import RuleSet
from kiosk.errors import ContentError

SEED_PREFIXES = ("000_", "001_", "002_", "003_", "004_")


@dataclass(frozen=True)
class Content:
    """Everything the dialog needs, validated."""

    questionnaire: Questionnaire
    rules: RuleSet
    outcomes: OutcomeContent
    speech: SpeechTexts
    phrases: AnswerPhrases

    @classmethod
    def load(cls, folder: Path | None = None, grammar: Path | None = None) -> Content:
        folder = folder or content_dir()
        content = cls(
            Questionnaire.load(folder / "questions.yaml"),
            RuleSet.load(folder / "rules.yaml"),
            OutcomeContent.load(folder / "outcomes.yaml", folder / "advice.yaml"),
            SpeechTexts.load(folder / "speech.yaml"),
            AnswerPhrases.load(grammar),
        )
        content._cross_check(folder)
        check_manifest_questions(content.questionnaire, folder)
        content.questionnaire.check_order(str(folder / "questions.yaml"))
        check_rules(content.questionnaire, content.rules, str(folder / "rules.yaml"),
                    str(folder / "questions.yaml"))
        check_manifest_rules(content.rules, content.outcomes, folder)
        return content

    def next_question(self, answers: Mapping[str, str], after: str | None) -> Question | None:
        """The next question to ask: it applies (ask_if) and some answer to it could still change the
        level, the departments or the advice (kiosk/content/relevance.py). None when the check is done."""
        return Relevance(self.questionnaire, self.rules, self.outcomes).next_question(answers, after)

    def _cross_check(self, folder: Path) -> None:
        questions = {q.id: q for q in self.questionnaire.questions}
        rules_file, advice_file = str(folder / "rules.yaml"), str(folder / "advice.yaml")
        for rule in self.rules.rules:
            _check_condition(rules_file, rule.id, "when", rule.when, questions)
            for d in rule.departments:
                if d not in self.outcomes.departments:
                    raise ContentError(rules_file, rule.id, "departments", f"unknown department '{d}'")
            _check_source(rules_file, rule.id, rule.source)
        for advice in self.outcomes.advice:
            _check_condition(advice_file, advice.id, "when", advice.when, questions)
            if advice.unless is not None:
                _check_condition(advice_file, advice.id, "unless", advice.unless, questions)
            _check_source(advice_file, advice.id, advice.source)
        questions_file = str(folder / "questions.yaml")
        speech_file = str(folder / "speech.yaml")
        for q in self.questionnaire.questions:
            _check_source(questions_file, q.id, q.source)
            for value in q.answers:
                if value not in self.phrases.by_answer:
                    raise ContentError(questions_file, q.id, "answers",
                                       f"'{value}' has no phrases in {self.phrases.path}")
                if value not in self.speech.answer_labels:
                    raise ContentError(speech_file, f"answer_labels.{value}", "-",
                                       f"missing: question '{q.id}' needs a label for '{value}'")

    def prompt_texts(self) -> dict[str, str]:
        """Every fixed thing the kiosk can say, by prompt id (the set that is pre-rendered to audio)."""
        texts: dict[str, str] = {f"speech.{k}": v for k, v in self.speech.texts.items()}
        for q in self.questionnaire.questions:
            texts[f"question.{q.id}"] = q.text
            texts[f"hint.{q.id}"] = self.speech.hint(q.answers)
        for lid, level in self.outcomes.levels.items():
            texts[f"level.{lid}"] = level.speech
            if all(level.go):
                texts[f"go.{lid}.before"], texts[f"go.{lid}.after"] = level.go
            for i, text in enumerate(level.see_doctor_if):
                texts[f"see_doctor.{lid}.{i}"] = text
        for did, name in self.outcomes.departments.items():
            texts[f"department.{did}"] = name
        for rule in self.rules.rules:
            texts[f"reason.{rule.id}"] = rule.reason
            if rule.reason_unsure is not None:
                texts[f"reason.{rule.id}.unsure"] = rule.reason_unsure
        for advice in self.outcomes.advice:
            texts[f"advice.{advice.id}"] = advice.text
        return texts


PROMPT_KINDS: dict[str, tuple[str, str, str]] = {
    # prompt id "<kind>.<rest>" (Content.prompt_texts) → the file, item and field its text comes from
    "speech": ("speech.yaml", "texts", "{rest}"),
    "question": ("questions.yaml", "{rest}", "text"),
    "hint": ("speech.yaml", "hint_two / hint_many", "for question {rest}"),
    "level": ("outcomes.yaml", "levels.{rest}", "speech"),
    "go": ("outcomes.yaml", "levels.{level}", "go ({index})"),
    "see_doctor": ("outcomes.yaml", "levels.{level}", "see_doctor_if[{index}]"),
    "department": ("outcomes.yaml", "departments.{rest}", "name"),
    "reason": ("rules.yaml", "{level}", "reason{unsure}"),
    "advice": ("advice.yaml", "{rest}", "text"),
}


def prompt_source(prompt_id: str) -> str:
    """Where a prompt's text comes from, as 'file: item ..., field ...' (see Content.prompt_texts)."""
    kind, _, rest = prompt_id.partition(".")
    if kind not in PROMPT_KINDS:
        return "unknown source"
    level, _, index = rest.partition(".")
    unsure = "_unsure" if index == "unsure" else ""
    file, item, field = (part.format(rest=rest, level=level, index=index, unsure=unsure)
                         for part in PROMPT_KINDS[kind])
    return f"{file}: item '{item}', field '{field}'"


def _check_condition(file: str, item: str, field: str, cond: Condition, questions: dict[str, Question]) -> None:
    for qid, values in cond.literals():
        q = questions.get(qid)
        if q is None:
            raise ContentError(file, item, field, f"unknown question '{qid}'")
        bad = sorted(values - set(q.recorded_values))
        if bad:
            raise ContentError(file, item, field, f"question '{qid}' has no answer {bad}")


def _check_source(file: str, item: str, source: str) -> None:
    # Every item cites a seed article or CLINICAL.md, so content stays traceable.
    if not (source.startswith(SEED_PREFIXES) or source.startswith("CLINICAL.md")):
        raise ContentError(file, item, "source", f"'{source}' is not a seed file or CLINICAL.md section")
