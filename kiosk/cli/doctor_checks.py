"""`kiosk doctor`'s checks of the audio devices, the speech model, the voices and the content."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.cli.findings import FAIL, OK, WARN, Finding
from kiosk.errors import KioskError
from kiosk.settings import Settings

# --- audio devices ---

def check_audio(settings: Settings, backend: Any = None) -> list[Finding]:
    """The microphone and speaker the kiosk would use, and every device there is to choose from."""
    from kiosk.audio.microphone import choose_format, find_device, list_devices, load_backend

    hint = ("list them with `arecord -l` / `aplay -l`; choose with [listen] input_device / output_device by a part "
            "of the name, or input_device by the device number listed here (not the card number of `arecord -l`)")
    try:
        backend = backend or load_backend()
        inputs = list_devices(backend)
        if not inputs:
            return [Finding("audio", FAIL, "no microphone found", f"connect a USB microphone; {hint}")]
        mic = find_device(settings.listen.input_device or None, backend)
        rate, channels = choose_format(mic, backend)
    except KioskError as exc:
        return [Finding("audio", FAIL, str(exc), hint)]
    names = "; ".join(f"{d.index}: {d.name}" + (" (default)" if d.is_default else "") for d in inputs)
    found = [Finding("audio", OK, f"microphone {mic.index}: '{mic.name}' at {rate} Hz, {channels} channel(s); "
                                  f"inputs: {names}")]
    return found + [_check_speaker(settings, backend, hint)]


def _check_speaker(settings: Settings, backend: Any, hint: str) -> Finding:
    try:
        devices = list(backend.query_devices())
    except Exception as exc:
        return Finding("audio", FAIL, f"cannot list audio devices ({exc})", hint)
    outputs = [(i, str(d["name"])) for i, d in enumerate(devices) if int(d.get("max_output_channels", 0)) > 0]
    if not outputs:
        return Finding("audio", FAIL, "no speaker found; prompts will only be shown, never heard",
                       f"connect a speaker; {hint}")
    wanted = settings.listen.output_device
    names = "; ".join(f"{i}: {n}" for i, n in outputs)
    if wanted and not any(wanted.lower() in n.lower() or wanted == str(i) for i, n in outputs):
        return Finding("audio", FAIL, f"no speaker matches {wanted!r}; the output devices are: {names}", hint)
    return Finding("audio", OK, f"speaker {wanted or 'default'}; outputs: {names}")


# --- speech model ---

def check_models(settings: Settings, manifest: dict[str, Any] | None = None) -> list[Finding]:
    """The configured engine's model: present, every file's size and sha256 as the manifest says."""
    from kiosk.asr.models import load_manifest, verify_model

    engine = settings.models.engine
    folder = settings.models.vosk_model if engine == "vosk" else settings.models.whisper_model
    specs = manifest if manifest is not None else load_manifest()
    candidates = [s for s in specs.values() if s.engine == engine]
    spec = next((s for s in candidates if s.name == folder.name), candidates[0] if len(candidates) == 1 else None)
    if spec is None:
        return [Finding("models", WARN, f"{engine} model in {folder} is not in the manifest, so it cannot be "
                                        "verified", "use a model the kiosk lists: kiosk models verify --help")]
    fix = f"kiosk models install {spec.name}" + (" --from-zip FILE" if spec.url is None else "")
    if not folder.is_dir():
        return [Finding("models", FAIL, f"{spec.name}: the folder {folder} does not exist", fix)]
    problems = verify_model(folder, spec)
    if problems:
        listed = "; ".join(str(p) for p in problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4
                                                            else "")
        return [Finding("models", FAIL, f"{spec.name} in {folder}: {listed}", fix)]
    found = [Finding("models", OK, f"{spec.name} in {folder}: all {len(spec.files)} files verified")]
    if engine == "vosk":
        found += _check_language(settings, folder, fix)
    return found


def _check_language(settings: Settings, folder: Path, fix: str) -> list[Finding]:
    from kiosk.asr.vosk_engine import check_language
    from kiosk.content.phrases import AnswerPhrases

    try:
        check_language(folder, AnswerPhrases.load(_content_paths(settings)[1]).language, fix)
    except KioskError as exc:
        return [Finding("models", FAIL, str(exc), fix)]
    return []


# --- voices ---

def check_voices(settings: Settings, prompt_dir: Path | None = None) -> list[Finding]:
    """Pre-rendered prompts up to date with the texts; Open JTalk and a live voice available."""
    found = [check_prompt_audio(settings, prompt_dir)]
    if importlib.util.find_spec("pyopenjtalk") is None:
        found.append(Finding("voices", WARN, "Open JTalk (pyopenjtalk) is not installed: prompts cannot be "
                                             "re-rendered and live speech of kanji is not possible",
                             "scripts/setup-env.sh voices (in the kiosk's folder)"))
    else:
        found.append(Finding("voices", OK, "Open JTalk (pyopenjtalk) is installed"))
    espeak = shutil.which("espeak-ng") or shutil.which("espeak")
    if importlib.util.find_spec("pyttsx3") is None or espeak is None:
        found.append(Finding("voices", WARN, "no live voice (pyttsx3 with espeak-ng): a text without "
                                             "pre-rendered audio is only shown", "sudo apt-get install espeak-ng"))
    else:
        found.append(Finding("voices", OK, f"live voice: pyttsx3 with {espeak}"))
    return found


def check_prompt_audio(settings: Settings, prompt_dir: Path | None = None,
                       texts: Mapping[str, str] | None = None) -> Finding:
    """Every prompt text has audio rendered from exactly that text; names the content item of each one not.

    `texts`: the prompt texts when the caller has loaded the content already (as `kiosk check` has).
    """
    from kiosk.content.bundle import Content, prompt_source
    from kiosk.content.datafiles import prompt_audio_dir
    from kiosk.tts.prompt_files import check_prompts

    folder = prompt_dir or prompt_audio_dir(settings.content.folder)
    try:
        texts = texts if texts is not None else Content.load(*_content_paths(settings)).prompt_texts()
        status = check_prompts(texts, folder)
    except KioskError as exc:
        return Finding("voices", FAIL, f"prompt audio in {folder} cannot be checked: {exc}",
                       "fix the content (see the content check), then run `kiosk prompts build`")
    if status.ok:
        return Finding("voices", OK, f"all {len(texts)} prompts pre-rendered in {folder}")
    parts = [f"{len(ids)} {label}: " + "; ".join(f"{pid} ({prompt_source(pid)})" for pid in ids[:5])
             + ("; …" if len(ids) > 5 else "")
             for label, ids in (("missing", status.missing), ("stale", status.stale)) if ids]
    if status.orphaned:
        parts.append(f"{len(status.orphaned)} left over: {', '.join(status.orphaned[:5])}")
    emergency = [p for p in (*status.missing, *status.stale) if "emergency" in p]
    urgent = f"; the emergency prompt lacks audio for {', '.join(emergency)}" if emergency else ""
    return Finding("voices", FAIL, f"prompt audio in {folder} is out of date: {'. '.join(parts)}{urgent}",
                   "kiosk prompts build")


# --- content ---

def check_content(settings: Settings) -> list[Finding]:
    """All content files load and pass their cross-checks and safety invariants (as `kiosk check`)."""
    from kiosk.content.bundle import Content
    from kiosk.dialog.normalize import Normalizer

    try:
        content = Content.load(*_content_paths(settings))
        Normalizer.load()
    except KioskError as exc:
        return [Finding("content", FAIL, str(exc), "correct the file, item and field named, then run `kiosk check`")]
    return [Finding("content", OK, f"{len(content.questionnaire.questions)} questions, "
                                   f"{len(content.rules.rules)} rules, {len(content.outcomes.advice)} advice items")]


def _content_paths(settings: Settings) -> tuple[Path | None, Path | None]:
    content = getattr(settings, "content", None)
    return getattr(content, "folder", None), getattr(content, "grammar", None)
