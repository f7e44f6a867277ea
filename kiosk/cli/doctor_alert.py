"""`kiosk doctor`'s check of the staff alert: the program is there and can run, and its dry run succeeds."""

from __future__ import annotations

from kiosk.cli.findings import FAIL, OK, WARN, Finding
from kiosk.session.staff_alert import command_problem, dry_run
from kiosk.settings import Settings

_HOW = "docs/operations.md, \"Alerting staff\""


def check_staff_alert(settings: Settings) -> list[Finding]:
    """The alert command of a clinic (or of the staff fallback): runnable, and, with [site]
    staff_alert_check_args, run once with them (a dry run that pages no one) and ending with status 0."""
    site = settings.site
    used = site.mode == "clinic" or site.fallback == "staff"
    if not site.staff_alert_command:
        return [Finding("staff", OK, "no staff alert command (home mode): the person is told to call 119")]
    problem = command_problem(site.staff_alert_command)
    if problem is not None:
        return [Finding("staff", FAIL if used else WARN, f"the staff alert command cannot be run: {problem}",
                        f"install the pager program or correct [site] staff_alert_command ({_HOW})")]
    program = site.staff_alert_command[0]
    if not site.staff_alert_check_args:
        return [Finding("staff", OK, f"{program} is there and executable (set [site] staff_alert_check_args, e.g. "
                                     "[\"--dry-run\"], to have doctor run it without paging anyone)")]
    failed = dry_run(site)
    if failed is not None:
        return [Finding("staff", FAIL if used else WARN, f"the staff alert dry run failed: {failed}",
                        f"run it by hand as the kiosk's user and fix what it says ({_HOW})")]
    return [Finding("staff", OK, f"{program} ran its dry run ({' '.join(site.staff_alert_check_args)}): status 0")]
