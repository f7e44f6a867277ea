"""Offline by construction: a whole session — typed, or replayed through the real Vosk engine — makes no
network connection of any kind, not even a name lookup. The only networked code is the model download,
reached only by the explicit `kiosk models install`.

Three layers: an in-process guard on every socket entry point around a real voice session; the same guard
installed in `kiosk` subprocesses (typed JSON-lines session, replay, and every offline command); and, where
the system allows it, the same sessions in a private network namespace with no network at all.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.audio.sources import FileSource
from kiosk.content.bundle import Content
from kiosk.dialog.actions import Ask, Finished
from kiosk.dialog.understanding import Heard
from kiosk.session.records import SessionStore
from tests.jsonl_driver import UTTERANCES
from tests.model_paths import korean_model_dir
from tests.scripted import run_session
from tests.test_faults_voice import KO_GRAMMAR, YES_WAV, build

ROOT = Path(__file__).resolve().parents[1]
KO_AUDIO = ROOT / "tests" / "audio" / "ko"
NETWORK_MODULES = {"socket", "ssl", "http.client", "http.server", "urllib.request", "urllib3", "requests",
                   "httpx", "aiohttp", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc.client",
                   "socketserver", "asyncio", "websocket", "websockets", "huggingface_hub"}
NETWORKED = {"kiosk/asr/models.py"}
"""The one module that may use the network: the explicit model download."""

GUARD = r'''
import json, os, socket, sys

_LOG = os.environ["NET_GUARD_LOG"]


def _blocked(name):
    def guard(*args, **kwargs):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"call": name, "args": repr(args[1:] if name.startswith("socket.") else args)})
                      + "\n")
        raise OSError(f"network use blocked by the offline test ({name})")
    return guard


for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
    setattr(socket.socket, _name, _blocked(f"socket.{_name}"))
for _name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
    setattr(socket, _name, _blocked(_name))
from kiosk.cli.main import main

sys.exit(main(sys.argv[1:]))
'''


# --- what the code could do at all ---

def test_only_the_model_download_module_imports_network_libraries() -> None:
    users = {}
    for path in sorted((ROOT / "kiosk").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        hits = {m for m in imported if m in NETWORK_MODULES or m.split(".")[0] in {"requests", "httpx", "urllib3"}}
        if hits:
            users[path.relative_to(ROOT).as_posix()] = sorted(hits)
    assert set(users) <= NETWORKED, users


def test_the_download_is_reached_only_from_the_install_command() -> None:
    callers = []
    for path in sorted((ROOT / "kiosk").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("download", "install_model", "urlopen"):
                    callers.append((path.relative_to(ROOT).as_posix(), name))
    assert sorted(set(callers)) == [("kiosk/asr/models.py", "download"), ("kiosk/asr/models.py", "urlopen"),
                                    ("kiosk/cli/models.py", "install_model")]


# --- in process: a real voice session with every socket entry point guarded ---

@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []

    def blocked(name: str) -> Any:
        def guard(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args!r}")
            raise OSError(f"network use blocked by the offline test ({name})")
        return guard

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, blocked(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, blocked(name))
    yield attempts


def test_the_guard_catches_a_connection(no_network: list[str]) -> None:
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("example.org", 80), timeout=1)
    with pytest.raises(OSError, match="blocked"), socket.socket() as s:
        s.connect(("127.0.0.1", 9))
    assert len(no_network) == 2


@pytest.mark.vosk
def test_a_voice_session_through_the_real_vosk_engine_makes_no_connection(
        no_network: list[str], ko_content: Content, ko_recognizer: Any, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    run = build(ko_content, ko_recognizer, FileSource(answer_files(ko_content)), store=store)
    finished = run.session.run()
    assert isinstance(finished, Finished) and finished.record["completed"]
    assert len([e for e in run.events if e["type"] == "heard"]) > 20, "a whole session, every question answered"
    assert store.recent(1)[0]["completed"]
    assert no_network == []


def session_answers(content: Content, other: str | None = None) -> list[str]:
    """The answer values of a whole session in the order asked: いいえ to every yes/no question, `other`
    (default: the first answer) to the rest; no stroke or red-flag sign, so every question is reached."""

    def choose(ask: Ask) -> Heard:
        value = "no" if "no" in ask.answers else (other or ask.answers[0])
        return Heard(value, value)

    run = run_session(content, choose)
    assert run.finished is not None
    return [str(choose(a).answer) for a in run.actions if isinstance(a, Ask)]


def answer_files(content: Content) -> list[Path]:
    """One recorded Korean answer per question of a whole session: 아니요, and 몰라요 where yes/no does not fit."""
    audio = {path.stem.split("__")[0]: path for path in sorted(KO_AUDIO.glob("*__*.wav"))}
    return [audio[value] for value in session_answers(content, other="unknown")]


# --- subprocesses: the real commands with the guard installed ---

def guarded(args: list[str], tmp: Path, stdin: str = "", **env: str) -> tuple[subprocess.CompletedProcess[str],
                                                                              list[dict[str, str]]]:
    log = tmp / "network.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp / "s.db"), "XDG_DATA_HOME": str(tmp / "data"),
                "NET_GUARD_LOG": str(log), **env}
    proc = subprocess.run([sys.executable, "-c", GUARD, *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", env=environ, cwd=ROOT, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    attempts = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return proc, attempts


def typed_session() -> str:
    """A whole typed session: いいえ to every yes/no question, the first answer to every other one."""
    return "".join(UTTERANCES[value] + "\n" for value in session_answers(Content.load()))


def test_a_typed_session_in_a_subprocess_makes_no_connection(tmp_path: Path) -> None:
    proc, attempts = guarded(["--jsonl"], tmp_path, stdin=typed_session())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["type"] == "outcome"
    assert attempts == []



def replay_folder(tmp: Path) -> Path:
    folder = tmp / "answers"
    folder.mkdir()
    for i, path in enumerate(answer_files(Content.load(grammar=KO_GRAMMAR)), 1):
        shutil.copy(path, folder / f"{i:02d}.wav")
    return folder


@pytest.mark.vosk
def test_a_replayed_session_through_vosk_in_a_subprocess_makes_no_connection(tmp_path: Path) -> None:
    proc, attempts = guarded(["replay", str(replay_folder(tmp_path)), "--out", str(tmp_path / "out"), "--store"],
                             tmp_path, KIOSK_VOSK_MODEL=str(korean_model_dir()), KIOSK_GRAMMAR=str(KO_GRAMMAR))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert json.loads((tmp_path / "out" / "outcome.json").read_text(encoding="utf-8"))["completed"]
    assert attempts == []


@pytest.mark.vosk
@pytest.mark.parametrize("command", [["check"], ["history"], ["models", "verify"], ["prompts", "check"],
                                     ["recognize", str(YES_WAV), "--answers", "yes,no"]],
                         ids=["check", "history", "verify", "prompts", "recognize"])
def test_offline_commands_make_no_connection(tmp_path: Path, command: list[str]) -> None:
    _, attempts = guarded(command, tmp_path, KIOSK_VOSK_MODEL=str(korean_model_dir()), KIOSK_GRAMMAR=str(KO_GRAMMAR))
    assert attempts == []


def test_the_model_download_is_the_one_networked_command_and_says_how_to_go_without(tmp_path: Path) -> None:
    proc, attempts = guarded(["models", "install", "--dest", str(tmp_path / "models")], tmp_path)
    assert proc.returncode == 2
    assert "no network: cannot download https://alphacephei.com/vosk/models/vosk-model-small-ja-0.22.zip" in proc.stderr
    assert "--from-zip FILE" in proc.stderr
    assert attempts and all("alphacephei.com" in a["args"] for a in attempts)
    assert not (tmp_path / "models" / "vosk-model-small-ja-0.22").exists()


# --- no network at all: a private network namespace ---

def _can_unshare_network() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


@pytest.mark.vosk
@pytest.mark.skipif(not _can_unshare_network(), reason="no user+network namespaces here (unshare -rn)")
def test_sessions_work_with_no_network_interface_at_all(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp_path / "s.db")}
    typed = subprocess.run(["unshare", "-rn", sys.executable, "-m", "kiosk", "--jsonl"], input=typed_session(),
                           capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120)
    assert typed.returncode == 0 and "Traceback" not in typed.stderr, typed.stderr
    environ |= {"KIOSK_VOSK_MODEL": str(korean_model_dir()), "KIOSK_GRAMMAR": str(KO_GRAMMAR)}
    replay = subprocess.run(["unshare", "-rn", sys.executable, "-m", "kiosk", "replay", str(replay_folder(tmp_path)),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True, env=environ, cwd=ROOT,
                            timeout=300)
    assert replay.returncode == 0 and "Traceback" not in replay.stderr, replay.stderr
    assert len(SessionStore(tmp_path / "s.db").recent()) == 1  # the typed session (replay without --store)


# --- and at run time on the device: the service may not use IP at all ---

def test_the_service_unit_denies_all_network_use() -> None:
    unit = (ROOT / "deploy" / "kiosk.service").read_text(encoding="utf-8")
    settings = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in unit.splitlines()
                if "=" in line and not line.startswith("#")}
    assert settings["IPAddressDeny"] == "any"
    assert settings["RestrictAddressFamilies"] == "AF_UNIX"
    assert settings["PrivateNetwork"] == "yes"
    assert "HF_HUB_OFFLINE=1" in unit
