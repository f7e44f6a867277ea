"""Settings from defaults, a TOML file and the environment, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import SettingsError
from kiosk.settings import load_settings


def test_defaults_are_generous_for_elderly_speakers() -> None:
    s = load_settings(environ={})
    assert s.listen.trailing_silence >= 1.0 and s.listen.no_input >= 8.0
    assert s.site.mode == "home" and s.models.engine == "vosk" and not s.storage.record_audio


def test_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[site]\nmode = "clinic"\nstaff_alert_command = ["/usr/bin/true", "staff"]\n'
                      '[listen]\nno_input = 80.0\n[models]\nvosk_model = "~/m"\n', encoding="utf-8")
    s = load_settings(config, environ={"KIOSK_WHISPER_MODEL": "/opt/w"})
    assert s.site.mode == "clinic" and s.site.staff_alert_command == ("/usr/bin/true", "staff")
    assert s.listen.no_input == 80.0 and s.models.vosk_model == Path("~/m").expanduser()
    assert s.models.whisper_model == Path("/opt/w")
    env = load_settings(config, environ={"KIOSK_MODE": "home"})
    assert env.site.mode == "home"


@pytest.mark.parametrize(("text", "message"), [
    ('[site]\nmode = "hospital"\n', "choose one of home, clinic"),
    ("[sites]\nmode = 1\n", "unknown settings table [sites]"),
    ('[listen]\nno_inptu = 3\n', "has no setting 'no_inptu'"),
    ('[listen]\nno_input = "long"\n', "is not a valid float"),
    ('[listen]\nno_input = -1\n', "must not be negative"),
    ('[site]\nstaff_alert_command = "notify staff"\n', "must be a list of strings"),
    ("[site\n", "cannot be read"),
])
def test_bad_settings_are_explained(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(config, environ={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})
