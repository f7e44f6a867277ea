"""Voice commands of the command line (filled in with the voice loop)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk.settings import Settings


def add_commands(sub: Any) -> None:
    """Register the voice subcommands."""


def run_voice(args: argparse.Namespace, settings: Settings) -> int:
    print("kiosk: the voice kiosk is not available in this build yet; run `kiosk --text` to type the "
          "answers, or `kiosk --jsonl` for programs", file=sys.stderr)
    return 2
