"""Speech model files: the manifest of what a complete model is, verification, and safe installation.

An install downloads (or takes a given zip), unpacks into a hidden staging folder next to the target,
verifies every file's size and sha256, and only then renames the folder into place: the kiosk never
finds a half-installed model where it looks for one.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.asr.vosk_engine import check_language
from kiosk.content.yamlfile import Fields, load_yaml
from kiosk.errors import ModelError

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent / "model_manifest.yaml"
Progress = Callable[[int, int | None], None]
"""Called with (bytes done, bytes expected or None)."""
_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileSpec:
    """One file of a model as the manifest lists it."""

    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    """One installable model: its files and where its zip can be downloaded."""

    name: str
    engine: str
    language: str
    url: str | None
    files: tuple[FileSpec, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class Problem:
    """One file of a model that is not as the manifest says."""

    path: str
    kind: str
    """'missing', 'partial', 'size' or 'sha256'."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def load_manifest(path: Path = MANIFEST) -> dict[str, ModelSpec]:
    """The models of a manifest YAML file, by name."""
    top = Fields(str(path), "(top level)", load_yaml(path))
    top.only("models")
    specs: dict[str, ModelSpec] = {}
    for name, raw in top.mapping("models").items():
        item = Fields(str(path), f"models.{name}", raw)
        item.only("engine", "language", "url", "files")
        files = []
        for i, entry in enumerate(item.raw.get("files") or []):
            f = Fields(str(path), f"models.{name}.files[{i}]", entry)
            f.only("path", "bytes", "sha256")
            size = f.raw.get("bytes")
            if not isinstance(size, int) or size < 0:
                raise f.error("bytes", "must be a whole number of bytes")
            files.append(FileSpec(f.text("path"), size, f.text("sha256").lower()))
        if not files:
            raise item.error("files", "must list at least one file")
        specs[str(name)] = ModelSpec(
            str(name), item.text("engine"), item.text("language"), item.opt_text("url"), tuple(files)
        )
    return specs


def model_spec(name: str, manifest: dict[str, ModelSpec] | None = None) -> ModelSpec:
    specs = manifest if manifest is not None else load_manifest()
    if name not in specs:
        raise ModelError(f"unknown model '{name}'; known models: {', '.join(sorted(specs))}")
    return specs[name]


def sha256_file(path: Path) -> str:
    """Hash in 1 MB blocks, so a 150 MB model file never sits in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify_file(model_dir: Path, spec: FileSpec) -> Problem | None:
    target = model_dir / spec.path
    if not target.is_file():
        return Problem(spec.path, "missing", "missing")
    size = target.stat().st_size
    if size < spec.bytes:  # sizes first: cheap, and names the usual fault (an interrupted download)
        return Problem(spec.path, "partial", f"partially downloaded: {size} of {spec.bytes} bytes")
    if size != spec.bytes:
        return Problem(spec.path, "size", f"is {size} bytes, expected {spec.bytes}")
    if sha256_file(target) != spec.sha256:
        return Problem(spec.path, "sha256", "is damaged or a different version (sha256 differs)")
    return None


def verify_model(model_dir: Path, spec: ModelSpec) -> list[Problem]:
    """Every file of `spec` checked for presence, size and sha256; an empty list means intact."""
    return [p for f in spec.files if (p := verify_file(Path(model_dir), f)) is not None]


class StderrProgress:
    """A plain-text progress line on stderr, redrawn at most 5 times a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._shown = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        final = total is not None and done >= total
        if time.monotonic() - self._shown < 0.2 and not final:
            return
        self._shown = time.monotonic()
        line = f"{self.label} {done / 1e6:.1f} MB"
        if total:
            line = f"{self.label} [{'#' * (30 * done // total):<30}] {done / 1e6:.1f} of {total / 1e6:.1f} MB"
            line += f" ({100 * done // total}%)"
        sys.stderr.write("\r" + line + ("\n" if final else ""))
        sys.stderr.flush()


def _offline_hint(name: str, spec: ModelSpec | None = None) -> str:
    command = f"`kiosk models install {name} --from-zip FILE`"
    if spec is not None and spec.url is None:
        # Nothing to download from: say which files the zip must hold, so the right folder is zipped.
        files = ", ".join(f.path for f in spec.files)
        return (f"on another machine, zip a folder holding the {spec.engine} model's files ({files}; a "
                f"CTranslate2 conversion of {name}, e.g. faster-whisper's) and run {command}")
    where = f"download {spec.url} " if spec is not None and spec.url else "download the zip "
    return f"{where}on another machine and run {command}"


def _open_url(url: str, name: str, timeout: float) -> Any:
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise ModelError(f"the server refused {url} (HTTP {exc.code}); {_offline_hint(name)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(f"no network: cannot download {url} ({reason}); {_offline_hint(name)}") from None


def download(url: str, target: Path, name: str, progress: Progress | None, timeout: float = 30.0) -> None:
    """Fetch `url` into `target`, reporting progress; any network failure is a ModelError."""
    done, total, broken = 0, None, ""
    with _open_url(url, name, timeout) as response, open(target, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        try:
            while block := response.read(_BLOCK // 4):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
        except (ConnectionError, TimeoutError, http.client.HTTPException) as exc:
            broken = f" ({exc})"
    if broken or (total is not None and done < total):
        raise ModelError(
            f"the download of {url} broke off after {done} bytes{broken}; run the install "
            f"again, or {_offline_hint(name)}"
        )


def _members(archive: zipfile.ZipFile, zip_path: Path) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Files of the zip with their paths inside the model (a single top folder is dropped)."""
    files = [i for i in archive.infolist() if not i.is_dir()]
    paths = [PurePosixPath(i.filename) for i in files]
    for path in paths:
        if path.is_absolute() or ".." in path.parts:
            raise ModelError(f"{zip_path} contains an unsafe path '{path}'; it is not a model zip")
    tops = {p.parts[0] for p in paths}
    if len(tops) == 1 and all(len(p.parts) > 1 for p in paths):
        paths = [PurePosixPath(*p.parts[1:]) for p in paths]
    return list(zip(files, paths, strict=True))


def unpack(zip_path: Path, into: Path, spec: ModelSpec) -> None:
    """Extract the model files of `zip_path` into the folder `into`."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = _members(archive, zip_path)
            if sum(i.file_size for i, _ in members) > 2 * spec.total_bytes + (1 << 20):
                raise ModelError(
                    f"{zip_path} unpacks to far more than {spec.name}; it is not that model's zip"
                )
            for info, path in members:
                target = into / path
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, _BLOCK)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{zip_path} is not a complete zip file ({exc}); download it again") from None


def _check_space(dest_dir: Path, spec: ModelSpec) -> None:
    free = shutil.disk_usage(dest_dir).free
    needed = 2 * spec.total_bytes  # the zip and the unpacked files exist side by side for a moment
    if free < needed:
        raise ModelError(
            f"not enough disk space in {dest_dir}: {needed // 10**6} MB needed, "
            f"{free // 10**6} MB free; free some space and try again"
        )


def _swap_into_place(staging: Path, final: Path) -> None:
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{int(time.time())}")
        final.rename(old)
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def install_model(
    name: str,
    dest_dir: Path,
    *,
    url: str | None = None,
    from_zip: Path | None = None,
    manifest: dict[str, ModelSpec] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Install model `name` as `dest_dir/name` from `from_zip` or by download; returns its folder.

    An intact installed copy is kept as it is. `progress` defaults to a text bar on stderr.
    """
    spec = model_spec(name, manifest)
    dest_dir = Path(dest_dir)
    final = dest_dir / name
    if final.is_dir() and not verify_model(final, spec):
        return final
    dest_dir.mkdir(parents=True, exist_ok=True)
    # A power cut or a kill in an earlier install leaves its hidden staging folder (~150 MB on an SD card).
    for stale in dest_dir.glob(f".{name}.installing-*"):
        log.warning("removing %s, left by an install that did not finish", stale)
        shutil.rmtree(stale, ignore_errors=True)
    _check_space(dest_dir, spec)
    staging = Path(tempfile.mkdtemp(dir=dest_dir, prefix=f".{name}.installing-"))
    try:
        zip_path = from_zip
        if zip_path is not None and not Path(zip_path).is_file():
            raise ModelError(f"{zip_path} does not exist; give the path of the downloaded {name} zip")
        if zip_path is None:
            source = url or spec.url
            if source is None:
                raise ModelError(f"{name} has no download address; {_offline_hint(name, spec)}")
            zip_path = staging / "download.zip.partial"
            download(source, zip_path, name, progress or StderrProgress(f"downloading {name}"))
        model = staging / "model"
        model.mkdir()
        unpack(Path(zip_path), model, spec)
        if problems := verify_model(model, spec):
            listed = "; ".join(str(p) for p in problems[:5])
            raise ModelError(
                f"the {name} files do not match the manifest ({listed}); nothing was "
                f"installed. Download the zip again, or {_offline_hint(name, spec)}"
            )
        if spec.engine == "vosk":
            check_language(model, spec.language, f"kiosk models install {name} --from-zip FILE")
        _swap_into_place(model, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
