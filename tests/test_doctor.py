"""`kiosk doctor`: each check finds the real fault and names the fix; the command never crashes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from kiosk import doctor
from kiosk.datafiles import content_dir, data_dir
from kiosk.doctor import FAIL, OK, WARN, Finding
from kiosk.history import SessionStore
from kiosk.models import FileSpec, ModelSpec
from kiosk.settings import ListenSettings, ModelSettings, Settings, StorageSettings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "models"
PARTIAL_JA = SHARED / "vosk-model-small-ja-0.22-partial"
WHISPER = SHARED / "whisper-base"
RECORD = {"started_at": 1.0, "duration_s": 2.0, "channel": "test", "mode": "home", "completed": True,
          "level": "consult", "departments": ["ortho"], "reasons": [], "answers": {}, "turns": [],
          "emergency_request": False, "version": "0"}


def make_settings(tmp: Path, **sections: Any) -> Settings:
    """Defaults with the database in `tmp`, and the given sections replaced."""
    base = Settings(storage=StorageSettings(database=tmp / "db" / "s.sqlite3", audio_dir=tmp / "audio"))
    return dataclasses.replace(base, **sections)


def statuses(findings: list[Finding]) -> list[str]:
    return [f.status for f in findings]


# --- audio: a fake sounddevice module (the devices), the real device selection code ---

class FakePortAudioError(Exception):
    pass


class FakeSoundDevice:
    PortAudioError = FakePortAudioError

    def __init__(self, devices: Sequence[dict[str, Any]], default_input: int = -1, formats: bool = True) -> None:
        self.devices = list(devices)
        self.default = type("Default", (), {"device": [default_input, -1]})()
        self.formats = formats

    def query_devices(self) -> list[dict[str, Any]]:
        return self.devices

    def check_input_settings(self, **kwargs: Any) -> None:
        if not self.formats:
            raise FakePortAudioError("Invalid sample rate")


def device(name: str, inputs: int, outputs: int, rate: int = 48000) -> dict[str, Any]:
    return {"name": name, "max_input_channels": inputs, "max_output_channels": outputs, "default_samplerate": rate}


HEADPHONES = device("bcm2835 Headphones: - (hw:0,0)", 0, 8)
USB_MIC = device("USB PnP Sound Device: Audio (hw:1,0)", 1, 0, 44100)
RESPEAKER = device("ReSpeaker 4 Mic Array (UAC1.0): USB Audio (hw:2,0)", 6, 2)


def test_audio_lists_the_devices_and_the_ones_chosen(tmp_path: Path) -> None:
    found = doctor.check_audio(make_settings(tmp_path), FakeSoundDevice([HEADPHONES, USB_MIC, RESPEAKER], 1))
    assert statuses(found) == [OK, OK]
    assert "microphone 1: 'USB PnP Sound Device" in found[0].message and "2: ReSpeaker" in found[0].message
    assert "0: bcm2835 Headphones" in found[1].message


def test_audio_without_a_microphone_or_speaker_fails_with_the_fix(tmp_path: Path) -> None:
    none = doctor.check_audio(make_settings(tmp_path), FakeSoundDevice([HEADPHONES]))
    assert statuses(none) == [FAIL] and "no microphone found" in none[0].message and "arecord -l" in none[0].fix
    mute = doctor.check_audio(make_settings(tmp_path), FakeSoundDevice([USB_MIC], 0))
    assert statuses(mute) == [OK, FAIL] and "no speaker found" in mute[1].message and "aplay -l" in mute[1].fix


def test_audio_names_a_configured_device_that_is_not_there(tmp_path: Path) -> None:
    backend = FakeSoundDevice([HEADPHONES, USB_MIC], 1)
    wrong_mic = make_settings(tmp_path, listen=ListenSettings(input_device="blue yeti"))
    found = doctor.check_audio(wrong_mic, backend)
    assert statuses(found) == [FAIL] and "no microphone matches 'blue yeti'" in found[0].message
    assert "1: USB PnP" in found[0].message and "input_device" in found[0].fix
    wrong_speaker = make_settings(tmp_path, listen=ListenSettings(output_device="hdmi"))
    found = doctor.check_audio(wrong_speaker, backend)
    assert statuses(found) == [OK, FAIL] and "no speaker matches 'hdmi'" in found[1].message


def test_audio_with_a_microphone_that_accepts_no_format(tmp_path: Path) -> None:
    found = doctor.check_audio(make_settings(tmp_path), FakeSoundDevice([USB_MIC, HEADPHONES], 0, formats=False))
    assert statuses(found) == [FAIL] and "accepts none of the tried formats" in found[0].message


# --- models ---

def tiny_model(folder: Path, words: str = "<eps> 0\nはい 1\nいいえ 2\n") -> ModelSpec:
    files = {"README": b"tiny\n", "graph/words.txt": words.encode()}
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return ModelSpec(folder.name, "vosk", "ja", None,
                     tuple(FileSpec(p, len(b), hashlib.sha256(b).hexdigest()) for p, b in files.items()))


def test_a_missing_model_names_the_install_command(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, models=ModelSettings(vosk_model=tmp_path / "vosk-model-small-ja-0.22"))
    found = doctor.check_models(settings)
    assert statuses(found) == [FAIL] and "does not exist" in found[0].message
    assert found[0].fix == "kiosk models install vosk-model-small-ja-0.22"


@pytest.mark.skipif(not PARTIAL_JA.is_dir(), reason=f"{PARTIAL_JA} not present")
def test_a_partial_model_lists_what_is_missing(tmp_path: Path) -> None:
    found = doctor.check_models(make_settings(tmp_path, models=ModelSettings(vosk_model=PARTIAL_JA)))
    assert statuses(found) == [FAIL]
    assert "am/final.mdl: missing" in found[0].message and found[0].fix.startswith("kiosk models install")


@pytest.mark.skipif(not WHISPER.is_dir(), reason=f"{WHISPER} not present")
def test_whisper_verified_and_missing(tmp_path: Path) -> None:
    good = doctor.check_models(make_settings(tmp_path, models=ModelSettings(engine="whisper", whisper_model=WHISPER)))
    assert statuses(good) == [OK] and "all 4 files verified" in good[0].message
    gone = make_settings(tmp_path, models=ModelSettings(engine="whisper", whisper_model=tmp_path / "whisper-base"))
    found = doctor.check_models(gone)
    assert statuses(found) == [FAIL] and found[0].fix == "kiosk models install whisper-base --from-zip FILE"


def test_a_verified_model_then_a_damaged_file(tmp_path: Path) -> None:
    folder = tmp_path / "tiny-ja"
    spec = tiny_model(folder)
    settings = make_settings(tmp_path, models=ModelSettings(vosk_model=folder))
    assert statuses(doctor.check_models(settings, {spec.name: spec})) == [OK]
    (folder / "README").write_bytes(b"TINY\n")
    found = doctor.check_models(settings, {spec.name: spec})
    assert statuses(found) == [FAIL] and "README: is damaged or a different version" in found[0].message


def test_a_model_in_another_language_fails(tmp_path: Path) -> None:
    folder = tmp_path / "tiny-ko"
    spec = tiny_model(folder, "<eps> 0\n네 1\n아니요 2\n오른쪽 3\n")
    found = doctor.check_models(make_settings(tmp_path, models=ModelSettings(vosk_model=folder)), {spec.name: spec})
    assert statuses(found) == [OK, FAIL] and "is not a Japanese model" in found[1].message


def test_a_model_not_in_the_manifest_cannot_be_verified(tmp_path: Path) -> None:
    found = doctor.check_models(make_settings(tmp_path, models=ModelSettings(vosk_model=tmp_path / "custom")), {})
    assert statuses(found) == [WARN] and "not in the manifest" in found[0].message


# --- voices, content ---

def test_missing_prompt_audio_fails_and_names_the_emergency_prompts(tmp_path: Path) -> None:
    found = doctor.check_voices(make_settings(tmp_path), prompt_dir=tmp_path / "prompts")
    prompts = found[0]
    assert prompts.status == FAIL and prompts.fix == "kiosk prompts build"
    assert "missing" in prompts.message and "speech.emergency_home" in prompts.message
    assert "speech.welcome (speech.yaml: item 'texts', field 'welcome')" in prompts.message
    assert {f.status for f in found[1:]} <= {OK, WARN}


def test_every_prompt_is_traced_to_its_content_file_item_and_field(content: Any) -> None:
    sources = {pid: doctor.prompt_source(pid) for pid in content.prompt_texts()}
    assert "unknown source" not in sources.values()
    assert sources["question.stroke_limb"] == "questions.yaml: item 'stroke_limb', field 'text'"
    assert sources["reason.fever"] == "rules.yaml: item 'fever', field 'reason'"
    assert sources["see_doctor.consult.0"] == "outcomes.yaml: item 'levels.consult', field 'see_doctor_if[0]'"


def test_prompt_audio_made_from_an_older_text_is_stale(tmp_path: Path) -> None:
    real = data_dir("audio_prompts")
    if not (real / "manifest.json").is_file():
        pytest.skip(f"no pre-rendered prompts in {real}")
    folder = tmp_path / "content"
    shutil.copytree(content_dir(), folder)
    speech = folder / "speech.yaml"
    speech.write_text(speech.read_text(encoding="utf-8").replace("  closing: ", "  closing: では、", 1),
                      encoding="utf-8")
    settings = make_settings(tmp_path, content=dataclasses.replace(Settings().content, folder=folder))
    prompts = doctor.check_voices(settings)[0]
    assert prompts.status == FAIL and "1 stale: speech.closing (speech.yaml: item 'texts', field 'closing')" \
        in prompts.message, prompts.message


def test_broken_content_is_named_by_the_doctor(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(content_dir(), folder)
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("{rf_fever:", "{rf_fevr:", 1), encoding="utf-8")
    settings = make_settings(tmp_path, content=dataclasses.replace(Settings().content, folder=folder))
    found = doctor.check_content(settings)
    assert statuses(found) == [FAIL]
    assert "rules.yaml: item 'fever', field 'when': unknown question 'rf_fevr'" in found[0].message
    assert "kiosk check" in found[0].fix
    assert statuses(doctor.check_content(make_settings(tmp_path))) == [OK]


# --- disk, database ---

def test_disk_space_where_the_database_and_audio_live(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert statuses(doctor.check_disk(settings)) in ([OK], [WARN])
    found = doctor.check_disk(settings, fail_below_mb=1e12)
    assert statuses(found) == [FAIL] and "records would be lost" in found[0].message
    recording = make_settings(tmp_path, storage=dataclasses.replace(settings.storage, record_audio=True,
                                                                    audio_max_mb=10**12))
    found = doctor.check_disk(recording, fail_below_mb=0, warn_below_mb=0)
    assert statuses(found) == [OK, WARN] and "answer audio" in found[1].message


def test_database_not_yet_created_intact_and_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert doctor.check_database(settings)[0].message.endswith("will be created at the first session")
    SessionStore(settings.storage.database).save(RECORD)
    found = doctor.check_database(settings)
    assert statuses(found) == [OK] and "1 session record(s), writable" in found[0].message
    os.chmod(settings.storage.database, 0o644)
    assert statuses(doctor.check_database(settings)) == [WARN, OK]


def test_a_locked_database_fails(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    SessionStore(settings.storage.database).save(RECORD)
    locker = sqlite3.connect(settings.storage.database)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        found = doctor.check_database(settings)
    finally:
        locker.rollback()
        locker.close()
    assert statuses(found) == [FAIL] and "locked" in found[0].message and "another program" in found[0].fix


def test_a_damaged_database_fails_and_says_how_to_recover(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.storage.database.parent.mkdir(parents=True)
    settings.storage.database.write_bytes(b"these are not the records you are looking for" * 100)
    os.chmod(settings.storage.database, 0o600)
    found = doctor.check_database(settings)
    assert statuses(found) == [FAIL] and "move" in found[0].fix and "backup" in found[0].fix


def test_a_database_that_cannot_be_created_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    settings = make_settings(tmp_path, storage=StorageSettings(database=blocker / "db" / "s.sqlite3"))
    found = doctor.check_database(settings)
    assert statuses(found) == [FAIL] and "cannot be created" in found[0].message


def test_a_check_that_breaks_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(settings: Settings) -> list[Finding]:
        raise RuntimeError("unexpected")

    monkeypatch.setitem(doctor.CHECKS, "disk", broken)
    found = doctor.run_checks(make_settings(tmp_path), ["disk", "database"])
    assert statuses(found) == [FAIL, OK] and "RuntimeError: unexpected" in found[0].message


# --- the command ---

@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    yield environ | {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp_path / "s.db"), "XDG_DATA_HOME": str(tmp_path)}


def doctor_command(args: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "kiosk.doctor", *args], capture_output=True, text=True,
                          encoding="utf-8", env=environ, cwd=ROOT, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_the_command_lists_what_to_fix_and_fails(tmp_path: Path, env: dict[str, str]) -> None:
    proc = doctor_command([], env | {"KIOSK_VOSK_MODEL": str(tmp_path / "nowhere")})
    assert proc.returncode == 1
    out = proc.stdout
    assert "FAIL  models" in out and "fix: kiosk models install vosk-model-small-ja-0.22" in out
    assert "ok    content" in out and "problem(s) to fix" in out.splitlines()[-1]


def test_the_command_exits_0_when_all_is_well(env: dict[str, str]) -> None:
    proc = doctor_command(["--only", "content", "--only", "database", "--json"], env)
    assert proc.returncode == 0, proc.stdout
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert {r["check"] for r in rows} == {"content", "database"} and {r["status"] for r in rows} == {OK}


def test_the_command_with_broken_settings_says_so(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[models]\nengine = 'kaldi'\n", encoding="utf-8")
    proc = doctor_command(["--config", str(config)], env)
    assert proc.returncode == 2 and "choose one of vosk, whisper" in proc.stderr


def test_doctor_is_a_kiosk_command_once_registered(env: dict[str, str]) -> None:
    helptext = subprocess.run([sys.executable, "-m", "kiosk", "--help"], capture_output=True, text=True,
                              env=env, cwd=ROOT).stdout
    if "doctor" not in helptext:
        pytest.skip("not registered yet: kiosk/__main__.py needs `doctor.add_command(sub)`")
    proc = subprocess.run([sys.executable, "-m", "kiosk", "doctor", "--only", "content"], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0 and "ok    content" in proc.stdout
