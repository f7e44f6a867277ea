"""The pre-rendered prompts match the current content; the emergency prompt is ready before the first question."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from kiosk.content.bundle import Content
from kiosk.content.datafiles import data_dir
from kiosk.session.assembly import emergency_prompts, load_parts
from kiosk.settings import Settings
from kiosk.tts.prompt_files import check_prompts


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


def test_an_edited_copy_of_the_content_gets_its_own_prompt_audio_and_the_live_audio_is_untouched(
        tmp_path: Path) -> None:
    import argparse
    import shutil

    pytest.importorskip("pyopenjtalk")
    from kiosk.cli.doctor import check_prompt_audio
    from kiosk.cli.prompts import cmd_prompts_build
    from kiosk.content.datafiles import content_dir, data_dir
    from kiosk.session.assembly import load_parts
    from kiosk.settings import load_settings

    # docs/operations.md: edit a copy, render its prompts, check, then swap. Rendering must not change the
    # audio the running kiosk plays (its texts would no longer match, and a restart before the swap fails).
    shipped = data_dir("audio_prompts") / "manifest.json"
    before = shipped.read_bytes()
    site = tmp_path / "content.new"
    shutil.copytree(content_dir(), site)
    speech = site / "speech.yaml"
    edited = speech.read_text(encoding="utf-8").replace("を中断しました。", "を、ここで中断しました。")
    speech.write_text(edited, encoding="utf-8")
    settings = load_settings(None, environ={"KIOSK_CONFIG": "", "KIOSK_CONTENT": str(site)})
    assert check_prompt_audio(settings).status != "ok", "the changed text has no audio yet"
    assert cmd_prompts_build(argparse.Namespace(out=None), settings) == 0
    assert shipped.read_bytes() == before, "the live prompt audio is unchanged"
    assert check_prompt_audio(settings).status == "ok"
    own = json.loads((site / "audio_prompts" / "manifest.json").read_text(encoding="utf-8"))
    assert own["speech.incomplete"]["sha256"] != json.loads(before)["speech.incomplete"]["sha256"]
    assert load_parts(settings).library.folder == site / "audio_prompts"
