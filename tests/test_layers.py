"""The layers of kiosk/ point down only: cli → session → asr, tts, audio → dialog → content (and the root modules).

The dialog core and the content can then be read, run and tested with no audio, no model and no device library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kiosk"
RANK = {"content": 0, "dialog": 1, "audio": 2, "asr": 2, "tts": 2, "session": 3, "cli": 4}
"""Layer of each folder; a module may import from its own layer and lower ones only."""
FOUNDATION = {"errors", "settings", "clock", "atomicfile", "__init__", "__main__"}
"""Modules at the package root, below every layer (the command line's `python -m kiosk` excepted)."""
DEVICE_LIBRARIES = {"numpy", "sounddevice", "vosk", "faster_whisper", "ctranslate2", "pyopenjtalk", "pyttsx3",
                    "soxr", "webrtcvad"}
PURE = ("content", "dialog")


def imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file, function-level imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "kiosk":
                found |= {f"kiosk.{alias.name}" for alias in node.names}
    return found


def layer(module: str) -> str | None:
    """The folder of a kiosk module (kiosk.dialog.machine → dialog); None for the root modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else None


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer_or_the_foundation() -> None:
    strays = [p.relative_to(ROOT).as_posix() for p in modules()
              if p.parent == PACKAGE and p.stem not in FOUNDATION or p.parent != PACKAGE and p.parent.name not in RANK]
    assert not strays, f"put these in a layer folder ({', '.join(RANK)}): {strays}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_down(path: Path) -> None:
    own = path.parent.name if path.parent != PACKAGE else None
    own_rank = RANK[own] if own else -1
    if path.stem == "__main__" and own is None:
        return  # `python -m kiosk` is the command line itself
    upward = [m for m in imports(path) if m.startswith("kiosk.") and (target := layer(m)) is not None
              and RANK[target] > own_rank]
    assert not upward, f"{path.relative_to(ROOT)} imports from a higher layer: {upward}"


@pytest.mark.parametrize("folder", PURE)
def test_the_dialog_and_the_content_load_no_device_library(folder: str) -> None:
    used = {m for p in (PACKAGE / folder).rglob("*.py") for m in imports(p)}
    assert not {m.split(".")[0] for m in used} & DEVICE_LIBRARIES


def test_importing_the_dialog_and_the_content_loads_no_device_library() -> None:
    # Transitively, as Python really loads them: a foundation module could pull one in.
    names = [f"kiosk.{f}.{p.stem}" for f in PURE for p in (PACKAGE / f).glob("*.py") if p.stem != "__init__"]
    code = (f"import sys\nimport {', '.join(names)}\n"
            f"print(sorted(set({sorted(DEVICE_LIBRARIES)!r}) & {{m.split('.')[0] for m in sys.modules}}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"loaded: {proc.stdout.strip()}"
