"""Answer understanding: a typed utterance or a recognizer result → a question's answer value, or None."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.content.phrases import UNKNOWN, AnswerPhrases, Recognition
from kiosk.dialog.ages import age_range
from kiosk.dialog.normalize import Normalizer

CALL_FOR_HELP = "emergency"
"""The answer value of a call for help (救急車, 助けて): an emergency from any question."""
REPEAT = "repeat"
UNDERSTOOD = "understood"
"""The answer value of 「わかりました」, asked for only by the emergency prompt."""
# Where people pause in writing: punctuation and spaces split an utterance into segments.
_SEGMENTS = re.compile(r"[\s、。,.!?！？・…]+")
# 「はい？」「ありますか」: the person is asking back, not answering.
_ASKING_BACK = re.compile(r"([^\s?？][?？]+\s*$)|((ます|です|ある)か$)")
# 「急にではない」「右じゃないです」: the value just said is denied, so it is not the answer.
_DENIED = ("ではない", "じゃない", "ではありません", "じゃありません", "ではなく", "じゃなく", "でない")
# ない is "no" only standing alone (「ないです」), after a particle (「しびれはない」「何もない」) or after an
# adverb of degree (「特にない」). After a verb or adjective it only negates that word: 「立てない」 and
# 「力が入らない」 are a *yes* to a question about weakness, so they must never count as "no".
_DEGREE_ADVERBS = ("特に", "とくに", "全然", "ぜんぜん", "別に", "べつに", "全く", "まったく", "あまり", "あんまり",
                   "そんなに")
_NAI_AFTER = ("は", "も", "が", "わ", *_DEGREE_ADVERBS)
# A phrase written in kana only that a negation follows directly is a verb stem: 「うまくいえない」 is "cannot say
# it" (言えない), a yes to a question about speech, not いえ = "no" and ない = "no".
_NEGATION = ("ない", "なかっ", "なく", "ませ")
_KANA = re.compile(r"[\u3041-\u309f]+")
# 「しびれはない」「漏れることはない」 deny one thing; a question may ask about several (「しびれる、または口が
# ゆがむ」「出にくい、または漏れる」), so such a "no" is not sure: a safety question is asked again, and a second
# one like it is recorded as unknown. 「何もない」「特にない」 deny everything and are sure.
_DENIED_PARTICLE = re.compile(rf"(?:は|が|も)(?:{'|'.join((*_DEGREE_ADVERBS, '一度も', '一回も'))})?"
                              r"(?=ない|なかった|ありません)")
# Words before the particle that make the denial whole: 「何もない」「そんなことはない」「一度もない」「今はない」.
_EVERYTHING = ("何", "なに", "何に", "なんに", "どれ", "どちら", "どっち", "どこ", "いずれ", "誰", "だれ", "それ",
               "そんなこと", "そういうこと", "そんな", "一度", "一回", "特に", "とくに", "別に", "今", "いま")
PARTIAL_NO_CONFIDENCE = 0.7
"""Below DialogSettings.confirm_no_below (0.85): asked again on a safety question, never recorded as no."""


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

    def values_in(self, utterance: str, accepted: tuple[str, ...] | None = None) -> list[str]:
        """Answer values of the phrases in the utterance, read left to right taking the longest phrase.

        With `accepted` (the question's values), a phrase of another question may give its parts' values.
        """
        whole = self._normalize(utterance)
        found: list[str] = []
        for segment in _SEGMENTS.split(utterance):
            text = self._normalize(segment)
            i, matched_to = 0, 0
            while i < len(text):
                for length in range(min(self._longest, len(text) - i), 0, -1):
                    answer = self._phrases.get(text[i:i + length])
                    if answer is None or not _counts(text, i, length, whole, matched_to):
                        continue
                    denial = next((d for d in _DENIED if text.startswith(d, i + length)), "")
                    if not denial:
                        found.extend(self._parts(text[i:i + length], answer, accepted))
                    i = matched_to = i + length + len(denial)
                    break
                else:
                    i += 1
        return found

    def _parts(self, text: str, answer: str, accepted: tuple[str, ...] | None) -> list[str]:
        """A phrase this question does not take that is two phrases joined gives both values.

        Asked where it hurts, 「右足です」 is 右 (a side) + 足 (a place): the place is the answer. Only whole
        phrases split, so 「どちらでもない」 (neither) never yields ない (no).
        """
        if accepted is None or answer in accepted:
            return [answer]
        for cut in range(1, len(text)):
            parts = (text[:cut], text[cut:])
            if any(len(part) == 1 and not _is_kanji(part) for part in parts):
                continue  # ええ is not え + え (a one-kana phrase counts only as a whole utterance)
            head, tail = self._phrases.get(parts[0]), self._phrases.get(parts[1])
            if head is not None and tail is not None:
                return [head, tail]
        return [answer]

    def understand(self, utterance: str, accepted: tuple[str, ...], yes_from_age: int | None = None) -> Heard:
        """The one answer value the utterance gives among `accepted`; None when absent or contradictory.

        With `yes_from_age` (「65歳以上ですか」), an age said as a number answers yes or no too.
        """
        values = self.values_in(utterance, accepted)
        if yes_from_age is not None:
            values += _age_answer(utterance, yes_from_age)
        if CALL_FOR_HELP in values:
            return Heard(CALL_FOR_HELP, utterance)  # a call for help wins over everything else said
        if _ASKING_BACK.search(utterance.strip()) or _ASKING_BACK.search(self._normalize(utterance)):
            return Heard(REPEAT, utterance)  # 「はい？」 is "pardon?": say the question again
        content = {v for v in values if v in accepted and v != REPEAT}
        if len(content) == 1:
            answer = content.pop()
            if answer == "no" and _denies_one_thing(self._normalize(utterance)):
                return Heard(answer, utterance, PARTIAL_NO_CONFIDENCE)
            return Heard(answer, utterance)
        if not content and REPEAT in values:
            return Heard(REPEAT, utterance)
        return Heard(None, utterance)  # nothing, a value this question does not take, or yes+no at once

    def from_recognition(self, result: Recognition) -> Heard:
        """A recognizer's `unknown` is an answer only when the person said わかりません; else not understood."""
        if result.answer == UNKNOWN and self._normalize(result.text) not in self._unknown_texts:
            return Heard(None, result.text, result.confidence)
        return Heard(result.answer, result.text, result.confidence)


def _age_answer(utterance: str, yes_from: int) -> list[str]:
    ages = age_range(utterance)
    if ages is None:
        return []
    youngest, oldest = ages
    if youngest >= yes_from:
        return ["yes"]
    if oldest < yes_from:
        return ["no"]
    return []  # 「60代」 to 「65歳以上ですか」: could be either, so the question is asked again


def _counts(text: str, start: int, length: int, whole: str, matched_to: int) -> bool:
    # A one-kana phrase (え = "pardon?") counts only as the whole utterance: inside words it is noise.
    if length == 1 and not _is_kanji(text[start]):
        return whole == text[start]
    if text.startswith("ない", start) and start > matched_to:
        return text[:start].endswith(_NAI_AFTER)
    phrase = text[start:start + length]
    follows = text[start + length:]
    if _KANA.fullmatch(phrase) and follows.startswith(_NEGATION) and not follows.startswith(phrase):
        return False
    # は is also the topic particle: 「今日はいい天気」 holds はい without meaning yes. A phrase
    # starting with は counts only at the start of a segment (after a pause, comma or space).
    return not (text[start] == "は" and start > 0)


def _denies_one_thing(text: str) -> bool:
    return any(m.start() > 0 and not text[:m.start()].endswith(_EVERYTHING) for m in _DENIED_PARTICLE.finditer(text))


def _is_kanji(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)
