from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.content import Content
from kiosk.datafiles import content_dir


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
