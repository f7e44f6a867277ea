"""`kiosk models install|verify`: speech models downloaded once and every file verified."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from kiosk.errors import ModelError
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def add_command(sub: Any) -> None:
    """Register `kiosk models` on the main parser."""
    models = sub.add_parser("models", help="install or verify speech models")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    install = msub.add_parser("install", help="download (once) and verify a model")
    install.add_argument("name", nargs="?", default="vosk-model-small-ja-0.22")
    install.add_argument("--from-zip", type=Path, help="install from a zip downloaded on another machine")
    install.add_argument("--dest", type=Path, help="folder to install into (default: beside the configured path)")
    install.set_defaults(func=cmd_models_install)
    verify = msub.add_parser("verify", help="check every file's size and sha256")
    verify.add_argument("name", nargs="?", default=None)
    verify.add_argument("--dir", type=Path, help="model folder (default: the configured path)")
    verify.set_defaults(func=cmd_models_verify)


def _model_dir(name: str, settings: Settings) -> Path:
    return settings.models.whisper_model if name.startswith("whisper") else settings.models.vosk_model


def cmd_models_install(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.asr.models import install_model

    target = _model_dir(args.name, settings)
    dest = args.dest or target.parent
    final = install_model(args.name, dest, from_zip=args.from_zip)
    print(f"{args.name} installed and verified in {final}")
    if final != target:
        key = "KIOSK_WHISPER_MODEL" if args.name.startswith("whisper") else "KIOSK_VOSK_MODEL"
        print(f"note: the kiosk looks in {target}; set {key}={final} or [models] in the settings file")
    return 0


def cmd_models_verify(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.asr.models import load_manifest, verify_model

    manifest = load_manifest()
    names = [args.name] if args.name else [n for n in manifest if manifest[n].engine == settings.models.engine]
    bad = 0
    for name in names:
        if name not in manifest:
            raise ModelError(f"unknown model '{name}'; known: {', '.join(manifest)}")
        folder = args.dir or _model_dir(name, settings)
        problems = verify_model(folder, manifest[name])
        if problems:
            bad += 1
            print(f"{name} in {folder}: {len(problems)} problem(s)", file=sys.stderr)
            for problem in problems[:10]:
                print(f"  {problem}", file=sys.stderr)
            print(f"fix it with: kiosk models install {name}", file=sys.stderr)
        else:
            print(f"{name} in {folder}: all {len(manifest[name].files)} files verified")
    return 1 if bad else 0
