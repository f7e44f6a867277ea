"""Pre-rendered prompt audio: render once, detect missing / stale / orphaned files, re-render only those."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from kiosk.audio.chunk import RATE
from kiosk.audio.wav import read_wav
from kiosk.errors import AudioError
from kiosk.tts.prompt_files import MANIFEST, check_prompts, render_prompts, text_sha256

TEXTS = {"welcome": "こんにちは。", "ask_pain": "痛みますか？", "thanks": "ありがとうございました。"}


class CountingRenderer:
    """A fake voice: 0.1 s of a constant per character, and a log of what it was asked to say."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def render(self, text: str) -> bytes:
        self.said.append(text)
        return (1000).to_bytes(2, "little", signed=True) * (RATE // 10) * len(text)


def test_renders_wavs_and_manifest(tmp_path: Path) -> None:
    voice = CountingRenderer()
    assert sorted(render_prompts(TEXTS, tmp_path, voice)) == sorted(TEXTS)
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == set(TEXTS)
    for prompt_id, text in TEXTS.items():
        entry = manifest[prompt_id]
        assert entry == {"sha256": text_sha256(text), "file": f"{prompt_id}.wav", "seconds": round(0.1 * len(text), 3)}
        with wave.open(str(tmp_path / entry["file"]), "rb") as wav:
            assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (RATE, 2, 1)
    assert check_prompts(TEXTS, tmp_path).ok


def test_only_missing_and_stale_prompts_are_rendered_again(tmp_path: Path) -> None:
    render_prompts(TEXTS, tmp_path, CountingRenderer())
    (tmp_path / "welcome.wav").unlink()
    changed = {**TEXTS, "ask_pain": "膝が痛みますか？"}
    status = check_prompts(changed, tmp_path)
    assert (status.missing, status.stale, status.orphaned) == (("welcome",), ("ask_pain",), ())
    assert not status.ok and "ask_pain" in status.describe()
    voice = CountingRenderer()
    assert render_prompts(changed, tmp_path, voice) == ["welcome", "ask_pain"]
    assert voice.said == ["こんにちは。", "膝が痛みますか？"]
    assert check_prompts(changed, tmp_path).ok
    assert render_prompts(changed, tmp_path, voice) == []


def test_orphans_are_reported_then_pruned(tmp_path: Path) -> None:
    render_prompts(TEXTS, tmp_path, CountingRenderer())
    fewer = {k: v for k, v in TEXTS.items() if k != "thanks"}
    assert check_prompts(fewer, tmp_path).orphaned == ("thanks",)
    render_prompts(fewer, tmp_path, CountingRenderer())
    assert not (tmp_path / "thanks.wav").exists()
    assert "thanks" not in json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert check_prompts(fewer, tmp_path).ok


def test_empty_folder_is_all_missing(tmp_path: Path) -> None:
    assert check_prompts(TEXTS, tmp_path / "none").missing == tuple(TEXTS)


def test_unsafe_prompt_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="file name"):
        render_prompts({"../escape": "はい"}, tmp_path, CountingRenderer())


def test_broken_manifest_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(AudioError, match="delete it and re-render"):
        check_prompts(TEXTS, tmp_path)


def test_real_voice_renders_prompts(tmp_path: Path) -> None:
    pytest.importorskip("pyopenjtalk", reason="needs pyopenjtalk-plus: scripts/setup-env.sh voices")
    from kiosk.tts.openjtalk import OpenJTalkRenderer

    texts = {"yes_no": "はい、か、いいえ。", "again": "もう一度どうぞ。"}
    assert sorted(render_prompts(texts, tmp_path, OpenJTalkRenderer())) == sorted(texts)
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    for prompt_id in texts:
        chunk = read_wav(tmp_path / f"{prompt_id}.wav")
        assert manifest[prompt_id]["seconds"] == pytest.approx(chunk.seconds, abs=0.001)
        assert 0.5 < manifest[prompt_id]["seconds"] < 5.0
    assert check_prompts(texts, tmp_path).ok
