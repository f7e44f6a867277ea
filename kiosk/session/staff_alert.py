"""Alerting clinic staff: a configured program run without a shell, with fixed arguments, not waited for."""

from __future__ import annotations

import contextlib
import logging
import subprocess

log = logging.getLogger(__name__)


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
