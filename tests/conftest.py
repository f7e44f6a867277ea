from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.content.bundle import Content
from kiosk.content.datafiles import content_dir
from tests import model_paths


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the test's fixtures: a session fixture that loads a model checks the first test that uses it.
    model_paths.current_marks = {mark.name for mark in item.iter_markers()}


@pytest.fixture(autouse=True, scope="session")
def private_spare_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Records that a test's storage fault sends to the spare journal ([storage] spare_dir) go to a folder of
    this test run, not to the machine's /var/tmp/kiosk-<uid>; kiosks started by the tests inherit it."""
    folder = tmp_path_factory.mktemp("spare-journal")
    folder.chmod(0o700)
    before = os.environ.get("KIOSK_SPARE_DIR")
    os.environ["KIOSK_SPARE_DIR"] = str(folder)
    yield
    if before is None:
        os.environ.pop("KIOSK_SPARE_DIR", None)
    else:
        os.environ["KIOSK_SPARE_DIR"] = before


@pytest.fixture(scope="session")
def korean_model() -> Path:
    """The Korean Vosk model (tests of the Vosk mechanics); the test must be marked vosk."""
    return model_paths.korean_model_dir()


@pytest.fixture(scope="session")
def ko_recognizer(korean_model: Path) -> Any:
    """The Korean Vosk model loaded once for the whole run (about 2 s and 500 MB): the Vosk mechanics on real
    audio (tests/audio/ko) with the Korean answer phrases of tests/data/ko."""
    from kiosk.asr.vosk_engine import VoskRecognizer

    return VoskRecognizer(korean_model, language="ko")


@pytest.fixture(scope="session")
def ko_content() -> Content:
    """The real content with the Korean answer phrases, for sessions replayed through the Korean model."""
    return Content.load(grammar=model_paths.ROOT / "tests" / "data" / "ko" / "answers.yaml")


@pytest.fixture(scope="session")
def whisper_model() -> Path:
    """The whisper-base model; the test must be marked whisper."""
    return model_paths.whisper_model_dir()


@pytest.fixture(scope="session")
def content() -> Content:
    return Content.load()


@pytest.fixture
def broken(tmp_path: Path) -> Callable[[str, str, str], Path]:
    """A copy of the content folder with `old` replaced by `new` (once) in one file; returns the folder."""
    folder = tmp_path / "content"
    shutil.copytree(content_dir(), folder)

    def edit(name: str, old: str, new: str) -> Path:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return folder

    return edit
