"""`kiosk prompts build|check`: the pre-rendered prompt audio, made from exactly the content's texts."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

from kiosk.content.bundle import Content
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def add_command(sub: Any) -> None:
    """Register `kiosk prompts` on the main parser."""
    prompts = sub.add_parser("prompts", help="pre-render or check the spoken prompts")
    psub = prompts.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    build = psub.add_parser("build", help="render missing or changed prompts with Open JTalk")
    build.add_argument("--out", type=Path, help="folder (default: audio_prompts/)")
    build.set_defaults(func=cmd_prompts_build)
    check = psub.add_parser("check", help="list missing or stale prompt audio")
    check.set_defaults(func=cmd_prompts_check)


def cmd_prompts_build(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.content.datafiles import PROMPTS, data_dir
    from kiosk.tts.openjtalk import OpenJTalkRenderer
    from kiosk.tts.prompt_files import render_prompts

    texts = Content.load(settings.content.folder, settings.content.grammar).prompt_texts()
    folder = settings.content.folder
    out = args.out or (folder / PROMPTS if folder is not None else data_dir(PROMPTS))
    if args.out is None and folder is not None and not out.is_dir():
        # A site's content gets its own prompt audio, started from the shipped prompts: only the texts the
        # site changed are rendered, and the audio the running kiosk plays is never touched.
        shutil.copytree(data_dir(PROMPTS), out)
    rendered = render_prompts(texts, out, OpenJTalkRenderer())
    print(f"{len(rendered)} prompt(s) rendered into {out}" if rendered else f"all prompts in {out} are up to date")
    return 0


def cmd_prompts_check(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.content.datafiles import prompt_audio_dir
    from kiosk.tts.prompt_files import check_prompts

    texts = Content.load(settings.content.folder, settings.content.grammar).prompt_texts()
    status = check_prompts(texts, prompt_audio_dir(settings.content.folder))
    print(status.describe())
    return 0 if status.ok else 1
