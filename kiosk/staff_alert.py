"""Alerting clinic staff: a configured program run without a shell, with fixed arguments, not waited for."""

from __future__ import annotations

import logging
import subprocess

log = logging.getLogger(__name__)


class StaffAlert:
    """Runs `command` (argv list) once per emergency; never blocks the emergency prompt."""

    def __init__(self, command: tuple[str, ...]) -> None:
        self.command = command
        self.sent = 0

    def send(self) -> bool:
        if not self.command:
            log.warning("clinic mode without [site] staff_alert_command: staff are told by screen and voice only")
            return False
        try:
            # Fixed argv, no shell: nothing the person says can reach the command line.
            subprocess.Popen(list(self.command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            log.error("staff alert command %s could not be started: %s", self.command[0], exc)
            return False
        self.sent += 1
        return True
