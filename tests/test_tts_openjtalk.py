"""The Open JTalk prompt renderer and kana readings (renders real audio with pyopenjtalk-plus)."""

from __future__ import annotations

import re
import sys
from types import ModuleType

import numpy as np
import pytest

from kiosk.audio.chunk import RATE
from kiosk.errors import AudioError, ModelError
from kiosk.tts.openjtalk import DEFAULT_PAUSE, OpenJTalkRenderer, split_phrases
from kiosk.tts.reading import kana_reading, mora_count

KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
TYPICAL_PROMPTS = (
    "急に片方の手足に力が入らなくなりましたか？",
    "最近、階段を下りるときに、膝が痛みますか？",
    "すぐに救急車を呼んでください。",
    "それはいつ頃からですか？",
)


@pytest.fixture(scope="module")
def jtalk() -> ModuleType:
    module: ModuleType = pytest.importorskip(
        "pyopenjtalk", reason="needs pyopenjtalk-plus: scripts/setup-env.sh voices"
    )
    return module


def silent_runs(pcm: bytes, threshold: int = 100) -> list[tuple[float, float]]:
    """(start, length) in seconds of every stretch of near-silence, at 10 ms resolution."""
    samples = np.abs(np.frombuffer(pcm, "<i2").astype(int))
    frames = samples[: samples.size // 160 * 160].reshape(-1, 160).max(axis=1) < threshold
    runs, start = [], None
    for index, quiet in enumerate([*frames, False]):
        if quiet and start is None:
            start = index
        elif not quiet and start is not None:
            runs.append((start / 100, (index - start) / 100))
            start = None
    return runs


def test_split_keeps_marks_with_their_phrase() -> None:
    assert split_phrases("右ですか、左ですか？ 両方ですか。") == ["右ですか、", "左ですか？", "両方ですか。"]
    assert split_phrases("。、") == []


def test_render_is_canonical_pcm(jtalk: ModuleType) -> None:
    chunk = OpenJTalkRenderer().render_chunk("はい、そうです。")
    assert chunk.is_canonical
    assert len(chunk.audio) % 2 == 0
    assert 1.0 < chunk.seconds < 4.0
    peak = int(np.abs(np.frombuffer(chunk.audio, "<i2").astype(int)).max())
    assert 20000 < peak < 32767  # normalised, never clipped


def test_pause_between_phrases(jtalk: ModuleType) -> None:
    renderer = OpenJTalkRenderer()
    with_pause = renderer.render("右ですか、左ですか。")
    inner = [length for start, length in silent_runs(with_pause)[1:-1]]
    assert any(length >= DEFAULT_PAUSE - 0.05 for length in inner), inner
    assert len(with_pause) - len(renderer.render("右ですか左ですか。")) > 0.4 * RATE * 2


def test_no_long_pause_inside_a_phrase(jtalk: ModuleType) -> None:
    runs = silent_runs(OpenJTalkRenderer().render("すぐに救急車を呼んでください。"))
    assert all(length < 0.3 for _, length in runs[1:-1]), runs


def test_speaking_rate_suits_elderly_listeners(jtalk: ModuleType) -> None:
    renderer = OpenJTalkRenderer()
    morae = sum(mora_count(kana_reading(text)) for text in TYPICAL_PROMPTS)
    seconds = sum(len(renderer.render(text)) / (2 * RATE) - 2 * renderer.edge for text in TYPICAL_PROMPTS)
    assert 4.0 <= morae / seconds <= 5.0, f"{morae / seconds:.2f} mora/s (pauses included)"


def test_speed_and_pitch_change_the_voice(jtalk: ModuleType) -> None:
    text = "階段を下りるとき"
    normal = OpenJTalkRenderer(speed=1.0).render(text)
    assert len(OpenJTalkRenderer(speed=0.6).render(text)) > 1.2 * len(normal)
    assert OpenJTalkRenderer(speed=1.0, half_tone=-6).render(text) != normal


def test_nothing_to_say_is_an_error(jtalk: ModuleType) -> None:
    with pytest.raises(AudioError, match="nothing to say"):
        OpenJTalkRenderer().render("、。")


def test_kana_reading_has_no_kanji(jtalk: ModuleType) -> None:
    reading = kana_reading("最近、階段を下りるときに「膝」が痛みますか？ 119番に電話してください！")
    assert not KANJI.search(reading)
    assert re.fullmatch(r"[\u30a1-\u30fc、。？]+", reading), reading
    assert reading.startswith("サイキン、カイダンヲ")
    assert "、" in reading and reading.endswith("。")


def test_kana_reading_keeps_pauses(jtalk: ModuleType) -> None:
    assert kana_reading("右ですか、左ですか？") == "ミギデスカ、ヒダリデスカ？"


def test_mora_count() -> None:
    assert mora_count("キューキューシャ") == 5  # キュ ー キュ ー シャ: small kana join, ー counts
    assert mora_count("ガッコー") == 4
    assert mora_count("ハイ、イーエ。") == 5


def test_missing_voice_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyopenjtalk", None)  # makes `import pyopenjtalk` fail
    with pytest.raises(ModelError, match=r"scripts/setup-env.sh voices"):
        kana_reading("はい")


def test_the_live_voice_is_loaded_only_when_a_text_has_no_prerendered_audio() -> None:
    # Open JTalk's dictionary costs ~58 MB resident; with every prompt pre-rendered it is never needed.
    from kiosk.tts.live import LazyLiveRenderer

    chosen: list[str] = []

    def choose() -> object:
        chosen.append("voice")
        return lambda text: text.encode()

    live = LazyLiveRenderer(choose)  # type: ignore[arg-type]
    assert chosen == [], "nothing is loaded at start-up"
    assert live("はい") == "はい".encode() and live("いいえ") == "いいえ".encode()
    assert chosen == ["voice"], "chosen once, at the first text that needs it"
    assert LazyLiveRenderer(lambda: None)("はい") is None, "no voice at all: the text is shown only"
