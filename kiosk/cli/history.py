"""`kiosk history`: recent sessions (answers and outcomes only)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from kiosk.session.records import SessionStore
from kiosk.settings import Settings


def add_command(sub: Any) -> None:
    """Register `kiosk history` on the main parser."""
    history = sub.add_parser("history", help="show recent sessions")
    history.add_argument("-n", type=int, default=20, help="how many sessions (default 20)")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    rows = SessionStore(settings.storage.database).recent(args.n)
    if not rows:
        print(f"no sessions recorded yet in {settings.storage.database}")
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
            continue
        when = datetime.fromtimestamp(row["started_at"]).strftime("%Y-%m-%d %H:%M")
        state = "done" if row["completed"] else "stopped"
        print(f"#{row['id']:<5} {when}  {row['channel']:<6} {state:<7} {row['level'] or '-':<10} "
              f"{row['duration_s']:>6.1f}s  {len(row['answers'])} answers  {', '.join(row['reasons'][:3])}")
    return 0
