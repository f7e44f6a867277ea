"""What `kiosk doctor`'s checks report: one finding per thing checked, with what to do unless all is well."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Finding:
    """One result of a check: what was found and, unless all is well, what to do."""

    check: str
    status: str
    message: str
    fix: str = ""


Check = Callable[[Settings], list[Finding]]
