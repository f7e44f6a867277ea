"""`kiosk history`: recent sessions (answers and outcomes only)."""

from __future__ import annotations

import argparse
import json
import sys
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
    store = SessionStore.from_settings(settings.storage)
    store.start()  # records kept in the journal during a storage fault are merged first, once it is healthy
    rows = store.recent(args.n)
    if not rows:
        print(f"no sessions recorded yet in {settings.storage.database}")
    for row in rows:
        print(_line(row, args.json))
    waiting = store.journal.pending()
    if waiting:
        places = ", ".join(str(p) for p in store.journal.places)
        print(f"kiosk: {waiting} more session record(s) wait in the journal ({places}) until the database can be "
              "written; `kiosk doctor` says why", file=sys.stderr)
    return 0


def _line(row: dict[str, Any], as_json: bool) -> str:
    """One session; a damaged row is named as damaged, and the others are shown as usual."""
    if "damaged" in row:
        if as_json:
            return json.dumps({"id": row["id"], "damaged": row["damaged"]}, ensure_ascii=False)
        return f"#{row['id']:<5} damaged row ({row['damaged']})"
    if as_json:
        return json.dumps(row, ensure_ascii=False)
    try:
        when = datetime.fromtimestamp(row["started_at"]).strftime("%Y-%m-%d %H:%M")
        state = "done" if row["completed"] else "stopped"
        answers = len(row["answers"]) if isinstance(row["answers"], (dict, list)) else "?"
        return (f"#{row['id']:<5} {when}  {row['channel']!s:<6} {state:<7} {row['level'] or '-'!s:<10} "
                f"{row['duration_s']:>6.1f}s  {answers} answers  {', '.join(map(str, row['reasons'][:3]))}")
    except (TypeError, ValueError, OverflowError, OSError, KeyError) as exc:
        return f"#{row.get('id', '?')!s:<5} damaged row ({type(exc).__name__}: {exc})"
