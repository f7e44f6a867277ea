"""`kiosk check`: content, the safety invariants of the rules, and the prompt audio, validated."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk.content.bundle import Content
from kiosk.dialog.normalize import Normalizer
from kiosk.session.staff_alert import check_site_alert
from kiosk.settings import Settings


def add_command(sub: Any) -> None:
    """Register `kiosk check` on the main parser."""
    check = sub.add_parser("check", help="validate all content files and exit")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    content = Content.load(settings.content.folder, settings.content.grammar)
    Normalizer.load()
    check_site_alert(settings.site)  # a pager that cannot run stops the service here (ExecStartPre)
    print(f"content OK: {len(content.questionnaire.questions)} questions, {len(content.rules.rules)} rules, "
          f"{len(content.outcomes.advice)} advice items, {len(content.prompt_texts())} prompt texts")
    from kiosk.cli.doctor import check_prompt_audio

    # A prompt that is missing or made from older text would say something other than the screen.
    prompts = check_prompt_audio(settings, texts=content.prompt_texts())
    if prompts.status != "ok":
        print(f"kiosk: {prompts.message}; fix: {prompts.fix}", file=sys.stderr)
        return 1
    print(prompts.message)
    return 0
