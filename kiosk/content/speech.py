"""Fixed speech texts from `content/speech.yaml`, and the answer hints built from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.content.yamlfile import Fields, load_yaml

REQUIRED_TEXTS = (
    "welcome", "stroke_intro", "complaint_intro", "red_flag_intro", "history_intro", "not_understood",
    "no_input", "moving_on", "unclear_speech", "recheck_no", "fallback_keyboard", "fallback_staff",
    "emergency_request", "emergency_home", "emergency_clinic", "emergency_repeat", "emergency_acknowledged",
    "emergency_acknowledged_home", "emergency_alert_failed", "departments_intro", "departments_outro",
    "reason_intro", "details_offer", "reasons_intro", "all_departments_intro", "advice_intro",
    "see_doctor_intro", "closing", "incomplete", "microphone_lost", "microphone_back", "model_missing",
    "ended_unanswered", "interim_intro", "confirm_help",
)


@dataclass(frozen=True)
class SpeechTexts:
    """What the kiosk says besides questions and outcomes."""

    texts: dict[str, str]
    answer_labels: dict[str, str]
    hint_two: str
    hint_many: str

    @classmethod
    def load(cls, path: Path) -> SpeechTexts:
        file = str(path)
        top = Fields(file, "(top level)", load_yaml(path))
        top.only("texts", "answer_labels", "hint_two", "hint_many")
        texts = {str(k): Fields(file, f"texts.{k}", {"text": v}).text("text")
                 for k, v in top.mapping("texts").items()}
        for key in REQUIRED_TEXTS:
            if key not in texts:
                raise top.error(f"texts.{key}", "is missing")
        labels = {str(k): Fields(file, f"answer_labels.{k}", {"label": v}).text("label")
                  for k, v in top.mapping("answer_labels").items()}
        hint_two, hint_many = top.text("hint_two"), top.text("hint_many")
        if "{a}" not in hint_two or "{b}" not in hint_two:
            raise top.error("hint_two", "must contain {a} and {b}")
        if "{options}" not in hint_many:
            raise top.error("hint_many", "must contain {options}")
        return cls(texts, labels, hint_two, hint_many)

    def __getitem__(self, key: str) -> str:
        return self.texts[key]

    def hint(self, answers: tuple[str, ...]) -> str:
        """How to answer, e.g. はい、か、いいえ、でお答えください。"""
        labels = [self.answer_labels[a] for a in answers]
        if len(labels) == 2:
            return self.hint_two.format(a=labels[0], b=labels[1])
        return self.hint_many.format(options="、".join(labels))  # 、: a pause, and each read on its own
