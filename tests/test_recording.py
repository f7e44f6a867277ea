"""Answer audio kept only when a site turns it on: private files, bounded in size and age, never in the way."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kiosk.audio.recording import AudioRecorder
from kiosk.audio.sources import FileSource
from kiosk.audio.wav import read_wav
from kiosk.dialog.actions import Finished
from kiosk.settings import StorageSettings, load_settings
from tests.test_faults_voice import NO_WAV, YES_WAV, build
from tests.test_privacy import mode, permissive_umask  # noqa: F401 - the umask fixture is autouse here too

SECOND = b"\x01\x00" * 16_000  # one second of canonical PCM (32 KB)
DAY = 86_400.0


class Now:
    """A wall clock that moves only when told to."""

    def __init__(self, t: float = 1_790_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_recording_is_off_by_default() -> None:
    settings = load_settings(environ={})
    assert settings.storage.record_audio is False
    assert AudioRecorder.from_settings(settings.storage) is None


def test_files_are_private_in_a_private_folder(tmp_path: Path) -> None:
    folder = tmp_path / "audio" / "answers"
    recorder = AudioRecorder.from_settings(StorageSettings(record_audio=True, audio_dir=folder))
    assert recorder is not None
    recorder.begin_session()
    path = recorder.save(SECOND, "stroke_limb", 2)
    assert path is not None and path.parent == folder
    assert mode(folder) == 0o700 and mode(path) == 0o600
    assert read_wav(path).audio == SECOND
    assert path.name.endswith(f"_{recorder.session}_stroke_limb_2.wav")


def test_an_existing_folder_readable_by_others_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "audio"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    AudioRecorder(folder, 10, 1).save(SECOND, "side")
    assert mode(folder) == 0o700


def test_file_names_carry_no_words_only_time_token_question_and_attempt(tmp_path: Path) -> None:
    recorder = AudioRecorder(tmp_path, 10, 1)
    path = recorder.save(SECOND, "../../etc/passwd 山田", 1)
    assert path is not None and path.parent == tmp_path
    stamp, token, *rest = path.stem.split("_")
    assert len(stamp) == 15 and token == "nosession" and "山田" not in path.name and "/" not in path.name


def test_old_files_are_removed(tmp_path: Path) -> None:
    now = Now()
    recorder = AudioRecorder(tmp_path, 100, 14, clock=now)
    old = recorder.save(SECOND, "a")
    assert old is not None
    os.utime(old, (now.t - 15 * DAY, now.t - 15 * DAY))
    recent = recorder.save(SECOND, "b")
    assert recent is not None
    os.utime(recent, (now.t - 13 * DAY, now.t - 13 * DAY))
    newest = recorder.save(SECOND, "c")
    assert recorder.files() == [recent, newest]


def test_the_folder_stays_within_its_size_the_oldest_going_first(tmp_path: Path) -> None:
    now = Now()
    recorder = AudioRecorder(tmp_path, 0.1, 14, clock=now)  # 100 KB: three one-second files fit
    kept = []
    for i in range(6):
        now.t += 60
        path = recorder.save(SECOND, f"q{i}")
        assert path is not None
        kept.append(path)
        assert recorder.total_bytes() <= 100_000
    assert recorder.files() == kept[-3:]


def test_a_bound_of_zero_keeps_nothing(tmp_path: Path) -> None:
    assert AudioRecorder(tmp_path / "a", 0, 14).save(SECOND, "q") is None
    assert AudioRecorder(tmp_path / "b", 100, 0).save(SECOND, "q") is None
    assert not list((tmp_path / "a").glob("*.wav")) and not list((tmp_path / "b").glob("*.wav"))


def test_leftovers_of_a_crash_are_cleaned_up(tmp_path: Path) -> None:
    now = Now()
    leftover = tmp_path / ".20250101T000000_0123abcd_q_1.wav.abc.tmp"  # named as write_wav names it
    leftover.write_bytes(SECOND)
    os.utime(leftover, (now.t - 2 * 3600, now.t - 2 * 3600))
    AudioRecorder(tmp_path, 10, 1, clock=now).save(SECOND, "q")
    assert not leftover.exists()


def test_pruning_touches_only_the_kiosks_own_files(tmp_path: Path) -> None:
    now = Now()
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)
    theirs = [folder / "interview.wav", folder / "20250101_memo.wav", folder / ".x.wav.abc.tmp"]
    for path in theirs:
        path.write_bytes(SECOND * 4)
        os.utime(path, (now.t - 400 * DAY, now.t - 400 * DAY))  # old and large: pruned first if they counted
    recorder = AudioRecorder(folder, 0.1, 14, clock=now)
    for i in range(5):
        now.t += 60
        assert recorder.save(SECOND, f"q{i}") is not None
    assert all(p.exists() for p in theirs), "other people's files are never removed"
    assert len(recorder.files()) == 3 and recorder.total_bytes() <= 100_000


def test_a_shared_folder_readable_by_others_is_not_chmodded(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    (folder / "notes.txt").write_text("someone else's", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert AudioRecorder(folder, 10, 1).save(SECOND, "q") is None
    assert mode(folder) == 0o755 and [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert "audio_dir to a folder of its own" in caplog.text


def test_a_recording_failure_is_logged_and_never_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        assert AudioRecorder(blocker / "audio", 10, 1).save(SECOND, "q") is None
    assert "answer audio not kept" in caplog.text


@pytest.mark.vosk
def test_a_voice_session_keeps_each_answer_when_recording_is_on(ko_content, ko_recognizer, tmp_path: Path) -> None:
    folder = tmp_path / "audio"
    recorder = AudioRecorder(folder, 10, 1)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    run = build(ko_content, ko_recognizer, FileSource([bad, NO_WAV, YES_WAV, YES_WAV]))
    run.session.recorder = recorder
    finished = run.session.run()
    assert isinstance(finished, Finished)
    files = recorder.files()
    # The bad file gave no audio; 아니요 answered stroke_limb, 네 stroke_face (an emergency); the
    # acknowledgement of the emergency prompt is not an answer and is not kept.
    assert [f.stem.split("_", 2)[2] for f in files] == ["stroke_limb_1", "stroke_face_1"]
    assert all(mode(f) == 0o600 for f in files) and mode(folder) == 0o700
    assert len({f.stem.split("_")[1] for f in files}) == 1, "one session token"
    assert all(read_wav(f).seconds > 0.5 for f in files)


@pytest.mark.vosk
def test_a_voice_session_keeps_no_audio_by_default(ko_content, ko_recognizer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = build(ko_content, ko_recognizer, FileSource([YES_WAV, YES_WAV]))
    assert run.session.recorder is None
    run.session.run()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
