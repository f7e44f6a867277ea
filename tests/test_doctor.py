"""`kiosk doctor`: each check finds the real fault and names the fix; the command never crashes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kiosk.asr.models import FileSpec, ModelSpec
from kiosk.cli import doctor
from kiosk.cli.doctor import FAIL, OK, WARN, Finding
from kiosk.content.bundle import prompt_source
from kiosk.content.datafiles import content_dir, data_dir
from kiosk.errors import StorageError
from kiosk.session.records import SessionStore
from kiosk.settings import ListenSettings, ModelSettings, Settings, StorageSettings
from tests.model_paths import JA_PARTIAL as PARTIAL_JA
from tests.model_paths import WHISPER

ROOT = Path(__file__).resolve().parents[1]
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


def test_an_input_device_of_digits_is_the_device_number_doctor_lists(tmp_path: Path) -> None:
    backend = FakeSoundDevice([RESPEAKER, USB_MIC, HEADPHONES], 1)  # "ReSpeaker ... (UAC1.0)" contains a 1
    found = doctor.check_audio(make_settings(tmp_path, listen=ListenSettings(input_device="1")), backend)
    assert statuses(found) == [OK, OK] and "microphone 1: 'USB PnP Sound Device" in found[0].message
    speaker = doctor.check_audio(make_settings(tmp_path, listen=ListenSettings(input_device="2")), backend)
    assert statuses(speaker) == [FAIL]
    assert "no microphone has device number 2 (device 2 'bcm2835 Headphones: - (hw:0,0)' has no input" \
        in speaker[0].message and "0: ReSpeaker" in speaker[0].message and "1: USB PnP" in speaker[0].message
    assert "not the card number of `arecord -l`" in speaker[0].fix


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
    sources = {pid: prompt_source(pid) for pid in content.prompt_texts()}
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


# --- database permissions: judged as the kiosk's (unprivileged) user ---

NOBODY = 65534
T = TypeVar("T")


class KioskUser:
    """Runs a check as an unprivileged user, for whom permission bits count.

    Root writes whatever the bits say, so when the tests run as root the check runs in a forked child that
    has become `nobody` (a real process of a real user, as the kiosk's service user would be); otherwise it
    runs here, as this (already unprivileged) user.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.is_root = os.geteuid() == 0

    def give(self, *paths: Path) -> None:
        """Make `paths` the kiosk user's (when root; otherwise they are this user's already)."""
        for path in paths:
            if self.is_root:
                os.chown(path, NOBODY, NOBODY)

    def run(self, action: Callable[[], T]) -> T:
        if not self.is_root:
            return action()
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: become the unprivileged user, act, send the result back, never return
            try:
                os.close(reader)
                try:
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                    result: tuple[str, Any] = ("ok", action())
                except PermissionError as exc:
                    result = ("skip", f"cannot switch to an unprivileged user to test permissions ({exc})")
                except Exception as exc:
                    result = ("raised", f"{type(exc).__name__}: {exc}")
                with os.fdopen(writer, "wb") as pipe:
                    pickle.dump(result, pipe)
            finally:
                os._exit(0)
        os.close(writer)
        with os.fdopen(reader, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        kind, value = pickle.loads(data)
        if kind == "skip":
            pytest.skip(value)
        assert kind == "ok", value
        return value  # type: ignore[no-any-return]


@pytest.fixture
def kiosk_user(tmp_path: Path) -> Iterator[KioskUser]:
    # pytest's own temporary folders are private to root, so a root run uses a folder `nobody` can reach.
    folder = Path(tempfile.mkdtemp(prefix="kiosk-doctor-")) if os.geteuid() == 0 else tmp_path
    os.chmod(folder, 0o755)
    yield KioskUser(folder)
    for path in [folder, *folder.rglob("*")]:  # permissions back, so that the folder can be removed
        path.chmod(0o700 if path.is_dir() else 0o600)
    if folder != tmp_path:
        shutil.rmtree(folder)


def try_to_save(db: Path) -> str:
    """What happens when the kiosk saves a session record: 'saved' or the error it meets."""
    try:
        SessionStore(db).save(RECORD)
    except StorageError as exc:
        return str(exc)
    return "saved"


def crash_while_writing(db: Path) -> None:
    """A process that saves one more record and dies before SQLite folds its -wal file into the database."""
    pid = os.fork()
    if pid == 0:
        try:
            conn = sqlite3.connect(db)
            conn.execute("PRAGMA wal_autocheckpoint=0")
            columns = ", ".join(row[1] for row in conn.execute("PRAGMA table_info(sessions)") if row[1] != "id")
            conn.execute(f"INSERT INTO sessions ({columns}) SELECT {columns} FROM sessions LIMIT 1")
            conn.commit()
        finally:
            os._exit(0)  # no close: the record stays in the -wal file, as after a power cut
    os.waitpid(pid, 0)


def test_a_read_only_database_file_is_a_permission_fault_not_damage(kiosk_user: KioskUser) -> None:
    settings = make_settings(kiosk_user.folder)
    db = settings.storage.database
    SessionStore(db).save(RECORD)
    kiosk_user.give(db.parent, db)
    db.chmod(0o400)
    before = db.read_bytes()
    found = kiosk_user.run(lambda: doctor.check_database(settings))
    assert statuses(found) == [FAIL], found
    assert "cannot be written by" in found[0].message and f"{db} is not writable (the database" in found[0].message
    assert "records themselves are not damaged" in found[0].message
    assert "writable by the kiosk's user" in found[0].fix and "chmod u+rwX" in found[0].fix
    assert "backup" not in found[0].fix and "move" not in found[0].fix
    assert db.read_bytes() == before and sorted(p.name for p in db.parent.iterdir()) == [db.name], \
        "the check changed nothing and created nothing"
    assert "readonly" in kiosk_user.run(lambda: try_to_save(db)), "the verdict is what saving meets"


def test_a_wal_file_left_by_another_user_is_named_and_the_records_survive(kiosk_user: KioskUser) -> None:
    settings = make_settings(kiosk_user.folder)
    db = settings.storage.database
    SessionStore(db).save(RECORD)
    crash_while_writing(db)  # as root here, as after `sudo kiosk`: the -wal and -shm files are root's
    wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
    assert wal.stat().st_size > 0, "test setup: a record is in the -wal file"
    kiosk_user.give(db.parent, db)
    if not kiosk_user.is_root:
        wal.chmod(0o400)  # not root: permission bits stand in for another owner
    found = kiosk_user.run(lambda: doctor.check_database(settings))
    assert statuses(found) == [FAIL], found
    assert f"{wal} is not writable (a file SQLite keeps beside the database" in found[0].message
    assert "backup" not in found[0].fix and str(wal) in found[0].fix
    assert kiosk_user.run(lambda: try_to_save(db)) != "saved", "the verdict is what saving meets"
    kiosk_user.give(wal, shm)  # the fix the doctor gives
    wal.chmod(0o600)
    found = kiosk_user.run(lambda: doctor.check_database(settings))
    assert statuses(found) == [OK] and "2 session record(s), writable" in found[0].message, found


def test_a_read_only_folder_is_not_writable_even_when_the_file_is(kiosk_user: KioskUser) -> None:
    settings = make_settings(kiosk_user.folder)
    db = settings.storage.database
    SessionStore(db).save(RECORD)
    with closing(sqlite3.connect(db)) as conn:  # as a database restored from an `.dump` is: no WAL yet
        conn.execute("PRAGMA journal_mode=DELETE")
    kiosk_user.give(db.parent, db)
    db.parent.chmod(0o500)
    found = kiosk_user.run(lambda: doctor.check_database(settings))
    assert statuses(found) == [FAIL], found
    assert f"{db.parent} is not writable (the folder, where SQLite must create its -wal and -journal files" \
        in found[0].message
    assert "backup" not in found[0].fix
    assert kiosk_user.run(lambda: try_to_save(db)) != "saved", "the verdict is what saving meets"
    db.parent.chmod(0o700)
    assert statuses(kiosk_user.run(lambda: doctor.check_database(settings))) == [OK]


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux) for a private mount")
def test_a_database_on_a_read_only_mount_says_remount_not_restore(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "db"
    SessionStore(folder / "s.sqlite3").save(RECORD)
    # A real read-only mount of the folder, in a private mount namespace (nothing outside it changes).
    where = shlex.quote(str(folder))
    script = (f"mount --bind {where} {where} && mount -o remount,ro,bind {where} && "
              f"{shlex.quote(sys.executable)} -m kiosk.cli.doctor --only database --json")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT,
                          env=env | {"KIOSK_DB": str(folder / "s.sqlite3")}, timeout=60)
    if proc.returncode not in (0, 1):
        pytest.skip(f"no private read-only mount here: {proc.stderr.strip()}")
    row = json.loads(proc.stdout)
    assert row["status"] == FAIL and "is mounted read-only" in row["message"], row
    assert row["fix"].startswith("remount it read-write") and "backup" not in row["fix"]


def test_the_verdict_is_what_saving_meets_for_whoever_runs_it(tmp_path: Path) -> None:
    """Run as root, the doctor must not call a read-only file unwritable: root can and does write it."""
    settings = make_settings(tmp_path)
    db = settings.storage.database
    SessionStore(db).save(RECORD)
    db.chmod(0o400)
    writable = statuses(doctor.check_database(settings)) == [OK]
    assert writable == (try_to_save(db) == "saved")


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
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli.doctor", *args], capture_output=True, text=True,
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


def test_doctor_is_a_kiosk_command(env: dict[str, str]) -> None:
    helptext = subprocess.run([sys.executable, "-m", "kiosk", "--help"], capture_output=True, text=True,
                              env=env, cwd=ROOT).stdout
    assert "doctor" in helptext
    proc = subprocess.run([sys.executable, "-m", "kiosk", "doctor", "--only", "content"], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0 and "ok    content" in proc.stdout
