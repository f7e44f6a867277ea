"""Japanese text normalisation for answer matching: width, kana, spelling variants, punctuation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kiosk.content.datafiles import data_dir
from kiosk.content.yamlfile import Fields, load_yaml
from kiosk.errors import ContentError

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F5)}  # ァ..ヴ → ぁ..ゔ
# The small ヵ/ヶ of 「3ヶ月」 are read か: folded to か so that counters match the patterns.
_KATAKANA_TO_HIRAGANA.update({0x30F5: 0x304B, 0x30F6: 0x304B, 0x3095: 0x304B, 0x3096: 0x304B})


@dataclass(frozen=True)
class Normalizer:
    """Makes 「ハイ、あります。」, 'はいあります' and 'ﾊｲ ｱﾘﾏｽ' compare equal."""

    remove: frozenset[str]
    variants: tuple[tuple[str, str], ...]
    patterns: tuple[tuple[re.Pattern[str], str], ...]
    fillers: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def load(cls, path: Path | None = None) -> Normalizer:
        path = path or data_dir("grammars") / "ja" / "normalize.yaml"
        file = str(path)
        top = Fields(file, "(top level)", load_yaml(path))
        top.only("remove", "fillers", "variants", "patterns")
        remove = frozenset(top.text("remove"))
        raw_variants = top.mapping("variants")
        variants = []
        for key, value in raw_variants.items():
            item = Fields(file, f"variants.{key}", {"to": value})
            variants.append((_base(str(key), remove), _base(item.text("to"), remove)))
        variants.sort(key=lambda kv: -len(kv[0]))  # longest first: 分かりません before 分か
        patterns = []
        for index, raw in enumerate(top.raw.get("patterns") or []):
            if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw)):
                raise ContentError(file, f"patterns[{index}]", "-", "must be [regex, replacement]")
            try:
                patterns.append((re.compile(raw[0]), _base(raw[1], remove)))
            except re.error as exc:
                raise ContentError(file, f"patterns[{index}]", "regex", str(exc)) from None
        fillers = []
        for index, raw in enumerate(top.raw.get("fillers") or []):
            if not isinstance(raw, str):
                raise ContentError(file, f"fillers[{index}]", "-", "must be a regular expression (text)")
            try:
                fillers.append(re.compile(_fold(raw)))
            except re.error as exc:
                raise ContentError(file, f"fillers[{index}]", "regex", str(exc)) from None
        return cls(remove, tuple(variants), tuple(patterns), tuple(fillers))

    def __call__(self, text: str) -> str:
        # Fillers go before the long-vowel mark is removed: 「うーん」 must not become 「うん」 (yes).
        text = _fold(text)
        for filler in self.fillers:
            text = filler.sub(" ", text)
        text = _base(text, self.remove)
        for pattern, replacement in self.patterns:
            text = pattern.sub(replacement, text)
        for old, new in self.variants:
            text = text.replace(old, new)
        return text


def _fold(text: str) -> str:
    # NFKC folds full-width digits/letters and half-width katakana; then katakana → hiragana.
    return unicodedata.normalize("NFKC", text).translate(_KATAKANA_TO_HIRAGANA).lower()


def _base(text: str, remove: frozenset[str]) -> str:
    return "".join(ch for ch in _fold(text) if ch not in remove and not ch.isspace())
