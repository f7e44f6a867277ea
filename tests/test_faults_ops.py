"""Operational faults found in review: a bad replay file, settings files and data files that are subtly wrong.

Real parts throughout (FileSource on real WAV files, the real settings and YAML loaders); no fakes needed.
"""

from __future__ import annotations

import shlex
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from kiosk.audio.sources import FileSource
from kiosk.audio.wav import read_wav_info
from kiosk.errors import AudioError
from tests.test_sources import wav


def test_a_bad_keyed_file_is_reported_once_and_used_up(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio\n", encoding="utf-8")
    no = wav(tmp_path / "no.wav")
    source = FileSource([no], {"stroke_limb": [bad]})
    with pytest.raises(AudioError, match="not a WAV file"):
        source.next_answer("stroke_limb")
    assert source.recover(), "the ordered file can still answer"
    assert source.next_answer("stroke_limb") is not None and source.used == [no]
    assert source.next_answer("stroke_limb") is None, "no more files: the session ends instead of looping"
    assert not source.recover()
    assert source.skipped == [(bad, source.skipped[0][1])] and len(source.skipped) == 1


def test_a_bad_keyed_file_among_several_is_skipped_and_the_rest_are_used(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"")
    a, b = wav(tmp_path / "a.wav"), wav(tmp_path / "b.wav")
    source = FileSource([], {"place": [a, bad, b]})
    assert source.next_answer("place") is not None
    with pytest.raises(AudioError, match="is empty"):
        source.next_answer("place")
    assert source.recover()
    for _ in range(3):  # the last good file still answers every further asking
        assert source.next_answer("place") is not None
    assert source.used == [a, b, b, b] and [p for p, _ in source.skipped] == [bad]


# --- replay sources: a single WAV, a manifest with a byte-order mark, upper-case file names ---

def test_a_single_wav_given_to_replay_is_explained(tmp_path: Path) -> None:
    from kiosk.cli.replay import answer_source

    one = wav(tmp_path / "base.wav")
    with pytest.raises(AudioError, match="is a single WAV file; replay needs a folder") as caught:
        answer_source(one)
    assert str(one) in str(caught.value) and "kiosk recognize" in str(caught.value)


def test_a_manifest_that_is_not_utf8_is_explained(tmp_path: Path) -> None:
    from kiosk.cli.replay import answer_source

    manifest = tmp_path / "list.txt"
    manifest.write_bytes("いいえ.wav\n".encode("shift_jis"))
    with pytest.raises(AudioError, match="is not a UTF-8 text manifest"):
        answer_source(manifest)


def test_a_manifest_with_a_byte_order_mark_and_upper_case_wavs(tmp_path: Path) -> None:
    from kiosk.cli.replay import answer_source

    wav(tmp_path / "01.WAV")
    wav(tmp_path / "02.wav")
    (tmp_path / "notes.txt").write_text("not an answer", encoding="utf-8")
    assert [p.name for p in answer_source(tmp_path)[0]] == ["01.WAV", "02.wav"]
    manifest = tmp_path / "list.txt"
    manifest.write_text("01.WAV\n02.wav\n", encoding="utf-8-sig")  # Notepad's UTF-8 starts with a BOM
    files, _ = answer_source(manifest)
    assert files == [(tmp_path / "01.WAV").resolve(), (tmp_path / "02.wav").resolve()]
    json_manifest = tmp_path / "m.JSON"
    json_manifest.write_text('["01.WAV"]', encoding="utf-8-sig")
    assert answer_source(json_manifest)[0] == [(tmp_path / "01.WAV").resolve()]


# --- the conversion command offered for an unusable audio file ---

def alaw_wav(path: Path, seconds: float = 0.5) -> Path:
    """An A-law WAV (format code 6, 8 kHz, 8 bits): valid, but not an encoding the kiosk decodes."""
    data = b"\xd5" * int(8000 * seconds)  # A-law silence
    fmt = struct.pack("<HHIIHH", 6, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def offered_command(path: Path) -> str:
    with pytest.raises(AudioError, match="convert it with: ") as caught:
        read_wav_info(path)
    return str(caught.value).split("convert it with: ", 1)[1]


def test_the_conversion_command_quotes_names_with_spaces_and_japanese(tmp_path: Path) -> None:
    folder = tmp_path / "録音 2024年"
    folder.mkdir()
    alaw = alaw_wav(folder / "いいえ (2回目).wav")
    command = offered_command(alaw)
    assert shlex.split(command) == ["sox", str(alaw), "-r", "16000", "-c", "1", "-b", "16", "out.wav"], command
    if shutil.which("sox") is None:
        pytest.skip("sox missing (sudo apt-get install sox): the pasted command itself is not run")
    # Pasted into a shell as it is, the command makes a file the kiosk reads.
    subprocess.run(command, shell=True, cwd=tmp_path, check=True, capture_output=True)
    converted = read_wav_info(tmp_path / "out.wav")
    assert (converted.rate, converted.channels, converted.bits) == (16000, 1, 16)


def test_an_mp3_or_aac_file_is_offered_ffmpeg_not_sox(tmp_path: Path) -> None:
    for name, head in [("はい の 答え.mp3", b"ID3\x04"), ("answer 1.M4A", b"\x00\x00\x00\x20ftypM4A "),
                       ("voice's.aac", b"\xff\xf1\x50\x80")]:
        path = tmp_path / name
        path.write_bytes(head + bytes(200))
        command = offered_command(path)
        assert shlex.split(command) == ["ffmpeg", "-i", str(path), "-ar", "16000", "-ac", "1", "-c:a",
                                        "pcm_s16le", "out.wav"], command
    assert offered_command(alaw_wav(tmp_path / "a.wav")).startswith("sox "), "a WAV is still converted by sox"


@pytest.mark.parametrize(("error", "advice"), [
    (PermissionError(13, "Permission denied", "/var/lib/kiosk/sessions.db"), "sudo -u kiosk"),
    (OSError(28, "No space left on device", "/var/lib/kiosk/models/x"), "the disk is full"),
    (FileNotFoundError(2, "No such file or directory", "/nowhere"), "check that the path exists"),
], ids=["wrong-user", "disk-full", "missing"])
def test_a_file_problem_no_part_reported_is_one_line_of_advice_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: OSError, advice: str) -> None:
    # e.g. an admin runs `kiosk models install` as themselves on the service's private /var/lib/kiosk.
    import kiosk.cli.history
    import kiosk.cli.main as cli

    def fail(*_: object) -> int:
        raise error

    monkeypatch.setattr(kiosk.cli.history, "cmd_history", fail)
    monkeypatch.setenv("KIOSK_CONFIG", "")
    assert cli.main(["history"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kiosk: {error.filename}: ") and advice in err and "Traceback" not in err


def test_sigterm_ends_the_kiosk_cleanly_but_an_interrupted_command_is_not_a_success(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # systemd stops the kiosk with SIGTERM (exit 0: a clean stop); a killed `kiosk models install` did not finish.
    import kiosk.cli.history
    import kiosk.cli.main as cli
    from kiosk.errors import Stopped

    def stopped_history(*_: object) -> int:
        raise Stopped

    def stopped_session(*_: object) -> int:
        raise Stopped

    monkeypatch.setenv("KIOSK_CONFIG", "")
    monkeypatch.setattr(kiosk.cli.history, "cmd_history", stopped_history)
    monkeypatch.setattr(cli, "_run", stopped_session)
    assert cli.main(["history"]) == 143
    assert cli.main(["--text"]) == 0
