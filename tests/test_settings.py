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


@pytest.mark.parametrize(("text", "message"), [
    ("[storage]\naudio_max_days = 0.5\n", "[storage] audio_max_days must be a whole number"),
    ("[storage]\naudio_max_days = 0\n", "[storage] audio_max_days is 0; it must be at least 1"),
    ('[storage]\naudio_max_mb = "200"\n', "[storage] audio_max_mb: '200' is not a valid int"),
    ('[storage]\nrecord_audio = "ture"\n', "[storage] record_audio must be true or false"),
    ('[storage]\nrecord_audio = "true"\n', "[storage] record_audio must be true or false"),
    ("[storage]\nrecord_audio = 1\n", "[storage] record_audio must be true or false"),
    ("[listen]\nvad_mode = 4\n", "[listen] vad_mode is 4; it must be from 0 to 3"),
    ("[listen]\nvad_mode = 2.5\n", "[listen] vad_mode must be a whole number"),
    ("[listen]\nno_input = nan\n", "[listen] no_input must be a finite number"),
    ("[listen]\nno_input = true\n", "[listen] no_input: 'True' is not a valid float"),
], ids=["half-day", "zero-days", "quoted-number", "ture", "quoted-bool", "number-as-bool", "vad-high",
        "vad-fraction", "nan", "bool-as-number"])
def test_values_of_the_wrong_type_or_range_are_rejected_with_file_section_and_field(
        tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(config, environ={})
    assert str(caught.value).startswith(f"{config}: ") and message in str(caught.value), caught.value


def test_good_typed_values_still_load(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[storage]\nrecord_audio = true\naudio_max_days = 1\n[listen]\nvad_mode = 0\n"
                      "no_input = 8\n", encoding="utf-8")
    s = load_settings(config, environ={})
    assert s.storage.record_audio is True and s.storage.audio_max_days == 1 and s.listen.vad_mode == 0
    assert s.listen.no_input == 8.0 and isinstance(s.listen.no_input, float)


def test_a_settings_file_that_is_not_utf8_is_explained(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_bytes("# 受付のキオスク\n[site]\nmode = \"clinic\"\n".encode("shift_jis"))
    with pytest.raises(SettingsError, match="is not UTF-8") as caught:
        load_settings(config, environ={})
    assert str(config) in str(caught.value) and "save it as UTF-8" in str(caught.value)


@pytest.mark.parametrize("site", ['mode = "clinic"', 'fallback = "staff"', 'mode = "clinic"\nfallback = "staff"'])
def test_promising_staff_without_a_way_to_alert_them_is_refused(tmp_path: Path, site: str) -> None:
    # 「今、スタッフを呼んでいます」 to a person with stroke signs, while nothing pages anyone, is worse than no kiosk.
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[site]\n{site}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="staff_alert_command is empty, so nobody would be alerted") as err:
        load_settings(config, environ={})
    assert str(config) in str(err.value) and "docs/operations.md" in str(err.value)
    with pytest.raises(SettingsError, match="nobody would be alerted"):
        load_settings(None, environ={"KIOSK_CONFIG": "", "KIOSK_MODE": "clinic", "HOME": str(tmp_path)})
    config.write_text(f"[site]\n{site}\nstaff_alert_command = ['/usr/bin/true']\n", encoding="utf-8")
    assert load_settings(config, environ={}).site.staff_alert_command == ("/usr/bin/true",)


def test_an_empty_kiosk_config_means_no_settings_file_even_where_one_is_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests and developers set KIOSK_CONFIG= to run without a site's settings; on a deployed clinic kiosk the
    # site's file would otherwise page staff from a test's 救急車.
    home_config = tmp_path / ".config" / "kiosk" / "kiosk.toml"
    home_config.parent.mkdir(parents=True)
    home_config.write_text('[site]\nmode = "clinic"\nstaff_alert_command = ["/usr/bin/true"]\n', encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(None, environ={"KIOSK_CONFIG": ""}).site.mode == "home"
    assert load_settings(None, environ={}).site.mode == "clinic", "unset: the installed file is read"


def test_a_settings_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # Windows Notepad saves "UTF-8" with a BOM; tomllib alone says only "Invalid statement (at line 1, column 1)".
    config = tmp_path / "kiosk.toml"
    config.write_bytes(b"\xef\xbb\xbf# \xe8\xa8\xad\xe5\xae\x9a\n[dialog]\nmax_reprompts = 3\n")
    assert load_settings(config, environ={}).dialog.max_reprompts == 3


def test_a_path_under_an_unknown_users_home_is_explained(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[models]\nvosk_model = "~nosuchuser-kiosk/models/vosk"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="home folder is unknown here; write the full path"):
        load_settings(config, environ={})
