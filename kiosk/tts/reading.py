"""Katakana readings of Japanese text, for voices that read only kana, and mora counts."""

from __future__ import annotations

import re

from kiosk.tts import pyopenjtalk

# Sentence marks become pauses a kana-only voice understands; '？' is kept for the rising intonation.
_PAUSES = str.maketrans({"！": "。", "!": "。", "?": "？", "．": "。", "，": "、", ",": "、", "・": "、", "…": "、"})
_NOT_KANA = re.compile(r"[^\u30a0-\u30ff、。？]")
_REPEATED_PAUSE = re.compile(r"([、。？])[、。？]+")
# Small kana that join the previous kana into one mora (ッ is a mora of its own and is not listed).
_SMALL = set("ァィゥェォャュョヮヵヶ")


def kana_reading(text: str) -> str:
    """The katakana reading of `text`, with pauses kept as 、 and 。 (and ？); never contains kanji."""
    kana = str(pyopenjtalk().g2p(text, kana=True)).translate(_PAUSES)
    kana = _NOT_KANA.sub("", kana)  # brackets, quotes and anything the dictionary could not read
    return _REPEATED_PAUSE.sub(r"\1", kana).lstrip("、。？")


def mora_count(kana: str) -> int:
    """Number of morae in a katakana string (ー, ン and ッ count; small ャュョ etc. do not)."""
    return sum(1 for ch in kana if "\u30a1" <= ch <= "\u30fc" and ch not in _SMALL and ch != "・")
