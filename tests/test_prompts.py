"""The pre-rendered prompts match the current content; the emergency prompt is ready before the first question."""

from __future__ import annotations

import wave

from kiosk.assembly import emergency_prompts, load_parts
from kiosk.content import Content
from kiosk.datafiles import data_dir
from kiosk.prompt_audio import check_prompts
from kiosk.settings import Settings


def test_every_prompt_is_rendered_from_the_current_text(content: Content) -> None:
    status = check_prompts(content.prompt_texts(), data_dir("audio_prompts"))
    assert status.ok, status.describe() + " — run: kiosk prompts build"


def test_prompt_files_are_16k_mono_wav(content: Content) -> None:
    for prompt_id in list(content.prompt_texts())[:20]:
        with wave.open(str(data_dir("audio_prompts") / f"{prompt_id}.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            assert w.getnframes() > 16000 * 0.3


def test_a_content_change_makes_the_prompt_stale(content: Content) -> None:
    texts = dict(content.prompt_texts())
    texts["question.stroke_limb"] += "（変更）"
    status = check_prompts(texts, data_dir("audio_prompts"))
    assert status.stale == ("question.stroke_limb",) and not status.ok


def test_emergency_audio_is_in_memory_at_start_up() -> None:
    parts = load_parts(Settings())
    assert parts.missing_emergency_audio == []
    for prompt_id in emergency_prompts(parts.content):
        assert prompt_id in parts.library._cache, prompt_id
