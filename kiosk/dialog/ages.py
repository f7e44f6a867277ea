"""Ages said as numbers (「72歳です」「七十代」「60歳未満」) → the range of years they allow."""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"[0-9]+|[〇一二三四五六七八九十百]+"
# The number, then how it is said: 歳/才/さい (an age), 代 (a decade), and 以上/以下/未満/過ぎ.
_AGE = re.compile(rf"({_NUMBER})\s*(歳|才|さい|代)?\s*(以上|以下|未満|過ぎ|すぎ)?")
OLDEST = 130


def age_range(utterance: str) -> tuple[int, int] | None:
    """The youngest and oldest age the utterance allows; None when it states no age (or several)."""
    text = unicodedata.normalize("NFKC", utterance)
    found = [m for m in _AGE.finditer(text) if m.group(2) or m.group(3) or _only_number(text, m)]
    if len(found) != 1:
        return None  # 「70か80」: no single age, so the question is asked again
    number, unit, bound = found[0].groups()
    value = int(number) if number.isdigit() else _kanji_number(number)
    if value is None or not 0 < value <= OLDEST:
        return None
    low, high = (value, value + 9) if unit == "代" else (value, value)
    if bound == "以上":
        return low, OLDEST
    if bound == "以下":
        return 0, high
    if bound == "未満":
        return 0, low - 1
    if bound in ("過ぎ", "すぎ"):
        return high + 1, OLDEST
    return low, high


def _only_number(text: str, match: re.Match[str]) -> bool:
    # A bare number counts only as the whole answer (「72です」): inside a sentence it may be anything.
    rest = re.sub(r"[\s、。,.!?！？]", "", text[:match.start()] + text[match.end():])
    return rest in ("", "です", "ですね", "はい", "はいです", "ええ", "ええです")


def _kanji_number(text: str) -> int | None:
    """七十二 → 72, 百 → 100, 六十 → 60; None for what is not a number below 1000 in kanji."""
    total, digit = 0, None
    for ch in text:
        if ch in _DIGITS:
            if digit is not None:
                return None  # 「七二」: digits side by side are not how ages are written in kanji
            digit = _DIGITS[ch]
        elif ch in ("十", "百"):
            total += (1 if digit is None else digit) * (10 if ch == "十" else 100)
            digit = None
        else:
            return None
    return total + (digit or 0)
