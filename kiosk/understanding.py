"""Answer understanding: a typed utterance or a recognizer result → a question's answer value, or None."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.asr.base import UNKNOWN, Recognition
from kiosk.grammar import AnswerPhrases
from kiosk.normalize import Normalizer

EMERGENCY, REPEAT = "emergency", "repeat"
# Where people pause in writing: punctuation and spaces split an utterance into segments.
_SEGMENTS = re.compile(r"[\s、。,.!?！？・…]+")


@dataclass(frozen=True)
class Heard:
    """An understood answer (None: not understood), with the words and the recognizer's confidence."""

    answer: str | None
    text: str
    confidence: float = 1.0


class Understanding:
    """Finds answer phrases in an utterance, leftmost-longest, so 「わからない」 is not read as 「ない」."""

    def __init__(self, phrases: AnswerPhrases, normalizer: Normalizer) -> None:
        self._normalize = normalizer
        self._phrases = {normalizer(p.text): p.answer for ps in phrases.by_answer.values() for p in ps}
        self._longest = max(len(text) for text in self._phrases)
        self._unknown_texts = {text for text, answer in self._phrases.items() if answer == UNKNOWN}

    def values_in(self, utterance: str) -> list[str]:
        """Answer values of the phrases in the utterance, read left to right taking the longest phrase."""
        whole = self._normalize(utterance)
        found: list[str] = []
        for segment in _SEGMENTS.split(utterance):
            text = self._normalize(segment)
            i = 0
            while i < len(text):
                for length in range(min(self._longest, len(text) - i), 0, -1):
                    answer = self._phrases.get(text[i:i + length])
                    if answer is not None and _counts(text, i, length, whole):
                        found.append(answer)
                        i += length
                        break
                else:
                    i += 1
        return found

    def understand(self, utterance: str, accepted: tuple[str, ...]) -> Heard:
        """The one answer value the utterance gives among `accepted`; None when absent or contradictory."""
        values = self.values_in(utterance)
        if EMERGENCY in values:
            return Heard(EMERGENCY, utterance)  # a call for help wins over everything else said
        content = {v for v in values if v in accepted and v != REPEAT}
        if len(content) == 1:
            return Heard(content.pop(), utterance)
        if not content and REPEAT in values:
            return Heard(REPEAT, utterance)
        return Heard(None, utterance)  # nothing, a value this question does not take, or yes+no at once

    def from_recognition(self, result: Recognition) -> Heard:
        """A recognizer's `unknown` is an answer only when the person said わかりません; else not understood."""
        if result.answer == UNKNOWN and self._normalize(result.text) not in self._unknown_texts:
            return Heard(None, result.text, result.confidence)
        return Heard(result.answer, result.text, result.confidence)


def _counts(text: str, start: int, length: int, whole: str) -> bool:
    # A one-kana phrase (え = "pardon?") counts only as the whole utterance: inside words it is noise.
    if length == 1 and not _is_kanji(text[start]):
        return whole == text[start]
    # は is also the topic particle: 「今日はいい天気」 holds はい without meaning yes. A phrase
    # starting with は counts only at the start of a segment (after a pause, comma or space).
    return not (text[start] == "は" and start > 0)


def _is_kanji(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)
