"""Alerting clinic staff: a configured program run without a shell, with fixed arguments, not waited for."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

from kiosk.errors import SettingsError
from kiosk.settings import SiteSettings

log = logging.getLogger(__name__)
DRY_RUN_SECONDS = 10.0
"""How long `kiosk doctor` waits for the alert command's dry run."""


def command_problem(command: tuple[str, ...]) -> str | None:
    """Why the alert program cannot be run (missing, not a file, not executable), or None when it can."""
    if not command:
        return None
    program = command[0]
    found = shutil.which(program) if os.sep not in program else program
    if found is None:
        return f"{program} is not found on PATH ({os.environ.get('PATH', '')}); give its full path"
    path = Path(found)
    if not path.exists():
        return f"{program} does not exist"
    if not path.is_file():
        return f"{program} is not a program file"
    if not os.access(path, os.X_OK):
        return f"{program} is not executable by this user; `chmod +x {program}`, or check its owner"
    return None


def check_site_alert(site: SiteSettings) -> None:
    """At start and in `kiosk check`: a configured alert program must be there and executable, so that a
    missing pager stops the kiosk now rather than failing during an emergency."""
    problem = command_problem(site.staff_alert_command)
    if problem is not None:
        raise SettingsError(f"[site] staff_alert_command cannot be run: {problem}; staff would not be alerted "
                            "in an emergency (docs/operations.md, \"Alerting staff\")")


def dry_run(site: SiteSettings) -> str | None:
    """Run the alert command with [site] staff_alert_check_args (no one is paged); why it failed, or None."""
    argv = [*site.staff_alert_command, *site.staff_alert_check_args]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=DRY_RUN_SECONDS)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(argv)}` did not finish within {DRY_RUN_SECONDS:.0f} s"
    except OSError as exc:
        return f"`{' '.join(argv)}` could not be started ({exc.strerror or exc})"
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"`{' '.join(argv)}` ended with status {done.returncode} {said[0]}".rstrip()
    return None


class StaffAlert:
    """Runs `command` (argv list) once per emergency; never blocks the emergency prompt."""

    def __init__(self, command: tuple[str, ...]) -> None:
        self.command = command
        self.sent = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._start_failed = False
        self._reported = False

    def send(self) -> bool:
        """Start the command; False when there is none or it cannot start (the person must then be told)."""
        self._process, self._start_failed, self._reported = None, True, False
        if not self.command:
            log.warning("clinic mode without [site] staff_alert_command: staff are told by screen and voice only")
            return False
        try:
            # Fixed argv, no shell: nothing the person says can reach the command line.
            self._process = subprocess.Popen(list(self.command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            log.error("staff alert command %s could not be started: %s", self.command[0], exc)
            return False
        self._start_failed = False
        self.sent += 1
        return True

    def failed(self, wait: float = 0.0) -> bool:
        """The last alert did not reach anyone as far as can be told: it could not start, or its command has
        ended with a non-zero status (a pager that could not connect). Waits up to `wait` seconds for a command
        still running (0: not at all); one still running then is not a failure."""
        if self._start_failed:
            return True
        if self._process is None:
            return False
        if wait > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=wait)
        status = self._process.poll()
        if status is not None and status != 0:
            if not self._reported:
                self._reported = True
                log.error("staff alert command %s ended with status %s: staff may not have been alerted",
                          self.command[0], status)
            return True
        return False
