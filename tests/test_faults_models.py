"""Speech models that are missing, partly downloaded, damaged or in the wrong language: every command says
what is wrong and the command that fixes it, with exit code 2 (1 for `models verify` problems), never a
traceback. The model code itself is tested in tests/test_models.py and tests/test_vosk_engine.py.

Real models only: the Korean Vosk model from PyPI, the partial Japanese model and whisper-base in
../shared/models (tests that need one of those are skipped when it is absent).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.model_paths import JA_PARTIAL as PARTIAL_JA
from tests.model_paths import WHISPER, korean_model_dir

ROOT = Path(__file__).resolve().parents[1]
YES_WAV = ROOT / "tests" / "audio" / "ko" / "yes__네.wav"
INSTALL_JA = "kiosk models install vosk-model-small-ja-0.22"

needs_partial = pytest.mark.skipif(not PARTIAL_JA.is_dir(), reason=f"{PARTIAL_JA} not present")
needs_whisper = pytest.mark.skipif(not WHISPER.is_dir(), reason=f"{WHISPER} not present")



def kiosk(*args: str, tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp / "s.db"), "XDG_DATA_HOME": str(tmp / "data"), **env}
    proc = subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True,
                          encoding="utf-8", env=environ, cwd=ROOT, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def linked_copy(source: Path, target: Path, truncate: dict[str, int] | None = None,
                corrupt: tuple[str, ...] = (), add: dict[str, str] | None = None) -> Path:
    """A model folder of symlinks to `source`'s files, except files cut to a length or with a byte flipped."""
    truncate = truncate or {}
    for file in source.rglob("*"):
        if file.is_dir():
            continue
        rel = file.relative_to(source).as_posix()
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel in truncate:
            with open(file, "rb") as f:
                dest.write_bytes(f.read(truncate[rel]))
        elif rel in corrupt:
            data = bytearray(file.read_bytes())
            data[len(data) // 2] ^= 0xFF
            dest.write_bytes(bytes(data))
        else:
            os.symlink(file, dest)
    for rel, text in (add or {}).items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(text, encoding="utf-8")
    return target


def recognize(tmp: Path, engine: str = "vosk", **env: str) -> subprocess.CompletedProcess[str]:
    return kiosk("recognize", str(YES_WAV), "--answers", "yes,no", "--engine", engine, tmp=tmp, **env)


# --- vosk: missing, partial, damaged, wrong language ---

def test_a_missing_vosk_model_names_the_install_command(tmp_path: Path) -> None:
    proc = recognize(tmp_path, KIOSK_VOSK_MODEL=str(tmp_path / "models" / "nowhere"))
    assert proc.returncode == 2
    assert f"{tmp_path / 'models' / 'nowhere'} does not exist; install the model with: {INSTALL_JA}" in proc.stderr


def test_the_default_model_location_is_explained_when_nothing_is_installed(tmp_path: Path) -> None:
    proc = recognize(tmp_path)  # no KIOSK_VOSK_MODEL: the default folder under XDG_DATA_HOME
    assert proc.returncode == 2
    assert str(tmp_path / "data" / "kiosk" / "models" / "vosk-model-small-ja-0.22") in proc.stderr
    assert INSTALL_JA in proc.stderr


@needs_partial
def test_a_partly_downloaded_japanese_model_lists_the_missing_files(tmp_path: Path) -> None:
    proc = recognize(tmp_path, KIOSK_VOSK_MODEL=str(PARTIAL_JA))
    assert proc.returncode == 2
    assert "is incomplete (missing am/final.mdl, graph/HCLr.fst, graph/Gr.fst, ivector/final.ie)" in proc.stderr
    assert "`kiosk models verify`" in proc.stderr and INSTALL_JA in proc.stderr


@pytest.mark.vosk
def test_a_cut_short_model_file_is_a_damaged_model(tmp_path: Path) -> None:
    model = linked_copy(korean_model_dir(), tmp_path / "model", truncate={"am/final.mdl": 200_000})
    proc = recognize(tmp_path, KIOSK_VOSK_MODEL=str(model), KIOSK_GRAMMAR=str(ROOT / "tests/data/ko/answers.yaml"))
    assert proc.returncode == 2
    assert "could not load the model" in proc.stderr and "kiosk models verify" in proc.stderr
    assert INSTALL_JA in proc.stderr


@pytest.mark.vosk
def test_a_korean_model_for_japanese_answers_is_the_wrong_language(tmp_path: Path) -> None:
    # The Korean model ships no words.txt: the check is whether it knows the grammar's words.
    proc = recognize(tmp_path, KIOSK_VOSK_MODEL=str(korean_model_dir()))
    assert proc.returncode == 2
    assert "probably a model for another language" in proc.stderr and INSTALL_JA in proc.stderr
    assert proc.stdout == "", "no half result is printed"


@pytest.mark.vosk
def test_a_model_whose_vocabulary_is_korean_is_refused_before_loading(tmp_path: Path) -> None:
    words = "<eps> 0\n" + "".join(f"{w} {i}\n" for i, w in enumerate(["네", "아니요", "오른쪽", "왼쪽"], 1))
    model = linked_copy(korean_model_dir(), tmp_path / "model", add={"graph/words.txt": words})
    proc = recognize(tmp_path, KIOSK_VOSK_MODEL=str(model))
    assert proc.returncode == 2
    assert "is not a Japanese model (its vocabulary looks Korean)" in proc.stderr and INSTALL_JA in proc.stderr


@pytest.mark.vosk
def test_the_kiosk_refuses_to_replay_with_a_model_of_the_wrong_language(tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "01.wav").write_bytes(YES_WAV.read_bytes())
    proc = kiosk("replay", str(answers), "--out", str(tmp_path / "out"), tmp=tmp_path,
                 KIOSK_VOSK_MODEL=str(korean_model_dir()))
    assert proc.returncode == 2
    assert "another language" in proc.stderr and INSTALL_JA in proc.stderr


# --- models verify ---

@needs_partial
def test_verify_names_each_partial_damaged_and_missing_file(tmp_path: Path) -> None:
    model = linked_copy(PARTIAL_JA, tmp_path / "model", truncate={"graph/words.txt": 1_000_000},
                        corrupt=("conf/model.conf",))
    proc = kiosk("models", "verify", "vosk-model-small-ja-0.22", "--dir", str(model), tmp=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert "vosk-model-small-ja-0.22 in" in err and "6 problem(s)" in err
    assert "graph/words.txt: partially downloaded: 1000000 of 4066944 bytes" in err
    assert "conf/model.conf: is damaged or a different version (sha256 differs)" in err
    assert "am/final.mdl: missing" in err
    assert f"fix it with: {INSTALL_JA}" in err


def test_verify_of_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    proc = kiosk("models", "verify", "vosk-model-small-ja-0.22", "--dir", str(tmp_path / "none"), tmp=tmp_path)
    assert proc.returncode == 1
    assert "16 problem(s)" in proc.stderr and "README: missing" in proc.stderr and INSTALL_JA in proc.stderr


def test_verify_of_an_unknown_model(tmp_path: Path) -> None:
    proc = kiosk("models", "verify", "vosk-model-big-xx", tmp=tmp_path)
    assert proc.returncode == 2
    assert "unknown model 'vosk-model-big-xx'; known: vosk-model-small-ja-0.22, whisper-base" in proc.stderr


@needs_whisper
def test_verify_whisper_intact_and_with_a_cut_short_file(tmp_path: Path) -> None:
    ok = kiosk("models", "verify", "whisper-base", "--dir", str(WHISPER), tmp=tmp_path)
    assert ok.returncode == 0 and "all 4 files verified" in ok.stdout
    model = linked_copy(WHISPER, tmp_path / "whisper", truncate={"tokenizer.json": 4096})
    bad = kiosk("models", "verify", "whisper-base", "--dir", str(model), tmp=tmp_path)
    assert bad.returncode == 1
    assert "tokenizer.json: partially downloaded: 4096 of 3930462 bytes" in bad.stderr
    assert "fix it with: kiosk models install whisper-base" in bad.stderr


# --- whisper ---

def test_a_missing_whisper_model_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "whisper-base"
    proc = recognize(tmp_path, engine="whisper", KIOSK_WHISPER_MODEL=str(missing))
    assert proc.returncode == 2 and proc.stderr.startswith("kiosk: ")
    assert "whisper" in proc.stderr.lower()
    if importlib.util.find_spec("kiosk.asr.whisper_engine") is not None:
        assert str(missing) in proc.stderr and "kiosk models install whisper-base" in proc.stderr


# --- installing from a file, the offline way ---

def test_install_from_a_zip_that_does_not_exist_or_is_cut_short(tmp_path: Path) -> None:
    missing = kiosk("models", "install", "--from-zip", str(tmp_path / "none.zip"), "--dest", str(tmp_path / "m"),
                    tmp=tmp_path)
    assert missing.returncode == 2 and "does not exist; give the path of the downloaded" in missing.stderr
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("vosk-model-small-ja-0.22/README", "x" * 5000)
    archive.write_bytes(archive.read_bytes()[:-40])  # the download broke off
    cut = kiosk("models", "install", "--from-zip", str(archive), "--dest", str(tmp_path / "m"), tmp=tmp_path)
    assert cut.returncode == 2 and "is not a complete zip file" in cut.stderr and "download it again" in cut.stderr
    assert not (tmp_path / "m" / "vosk-model-small-ja-0.22").exists(), "nothing half-installed is left"
