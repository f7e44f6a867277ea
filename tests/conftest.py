from __future__ import annotations

import pytest

from kiosk.content import Content


@pytest.fixture(scope="session")
def content() -> Content:
    return Content.load()
