"""The committed Japanese test utterances: naming, coverage of every answer value, format."""

from __future__ import annotations

import json
import wave
from collections import Counter
from pathlib import Path

import pytest

from bench.testset import Clip, clip_name, default_root, list_clips, parse_clip
from kiosk.asr.base import UNKNOWN
from kiosk.content.phrases import AnswerPhrases
from kiosk.errors import AudioError

ROOT = default_root()


@pytest.fixture(scope="module")
def clips() -> list[Clip]:
    return list_clips(ROOT)


def test_names_round_trip(tmp_path: Path) -> None:
    clip = parse_clip(tmp_path / "slowed" / clip_name("standing_up", "立ち上がるとき", "mei"))
    assert (clip.expected, clip.text, clip.voice, clip.condition, clip.oov) == (
        "standing_up", "立ち上がるとき", "mei", "slowed", False,
    )
    oov = parse_clip(tmp_path / "clean" / clip_name("oov", "お茶をください", "kokoro-kumo"))
    assert (oov.expected, oov.oov) == (UNKNOWN, True)


@pytest.mark.parametrize("bad", ["yes__はい.wav", "yes__はい__mei.mp3", "__はい__mei.wav"])
def test_bad_names_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(AudioError, match="<answer>__<text>__<voice>"):
        parse_clip(tmp_path / "clean" / bad)


def test_clip_name_refuses_separators() -> None:
    with pytest.raises(AudioError):
        clip_name("yes", "は__い", "mei")


def test_missing_folder_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="make_answer_audio"):
        list_clips(tmp_path / "nothing")


@pytest.mark.parametrize("condition", ["clean", "slowed"])
def test_every_answer_value_has_clips(clips: list[Clip], condition: str) -> None:
    counts = Counter(c.expected for c in clips if c.condition == condition and not c.oov)
    values = AnswerPhrases.load().by_answer
    thin = {value: counts[value] for value in values if counts[value] < 2}
    assert not thin, f"answer values with fewer than 2 {condition} clips: {thin}"
    assert set(counts) <= set(values), "clips expect answer values that answers.yaml does not have"


def test_out_of_grammar_clips(clips: list[Clip]) -> None:
    oov = [c for c in clips if c.oov]
    assert len({c.text for c in oov}) >= 15
    assert len([c for c in oov if c.condition == "clean"]) >= 15
    assert any(c.condition == "slowed" for c in oov)
    phrases = {p.text for ps in AnswerPhrases.load().by_answer.values() for p in ps}
    assert not phrases & {c.text for c in oov}, "an out-of-grammar text is an answer phrase"


def test_in_grammar_texts_are_phrases_of_their_answer(clips: list[Clip]) -> None:
    by_answer = AnswerPhrases.load().by_answer
    wrong = [c.path.name for c in clips if not c.oov and c.text not in {p.text for p in by_answer[c.expected]}]
    assert not wrong


def test_at_least_three_voices(clips: list[Clip]) -> None:
    for condition in ("clean", "slowed"):
        assert len({c.voice for c in clips if c.condition == condition}) >= 3


def test_files_are_canonical_and_indexed(clips: list[Clip]) -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {c.path.relative_to(ROOT).as_posix() for c in clips}
    for clip in clips:
        with wave.open(str(clip.path), "rb") as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2), clip.path.name
            assert 0.9 < wav.getnframes() / 16_000 < 6.0, clip.path.name


def test_committed_audio_stays_small() -> None:
    # 16 MB: raised from 15 for the negated-verb clips (立てない…), a safety case worth its 1 MB of clone;
    # 19 MB for issue 20's six new answer values (真ん中, 力が入らない, 痛み, 転んだ, ひねった, 重い物: 2.5 MB).
    size = sum(p.stat().st_size for p in ROOT.glob("*/*.wav"))
    assert size < 19_000_000, f"{size / 1e6:.1f} MB of test audio; keep it under 19 MB"
