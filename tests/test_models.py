"""Model manifest, verification and installation; downloads come from a local server, never the internet."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.asr.models import (
    FileSpec,
    ModelSpec,
    StderrProgress,
    install_model,
    load_manifest,
    verify_file,
    verify_model,
)
from kiosk.asr.vosk_engine import VoskRecognizer, check_language, detect_language
from kiosk.errors import ContentError, ModelError
from tests.model_paths import JA_PARTIAL as PARTIAL_JA
from tests.model_paths import WHISPER

LARGE_JA = {"am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "ivector/final.ie"}

FILES = {
    "README": b"tiny test model\n",
    "conf/model.conf": b"--min-active=200\n",
    "graph/words.txt": "<eps> 0\nはい 1\nいいえ 2\n右 3\nわかり 4\n[unk] 5\n".encode(),
}


def spec_of(files: dict[str, bytes], name: str = "tiny-ja", engine: str = "vosk") -> ModelSpec:
    return ModelSpec(
        name,
        engine,
        "ja",
        None,
        tuple(FileSpec(p, len(b), hashlib.sha256(b).hexdigest()) for p, b in files.items()),
    )


def zip_of(files: dict[str, bytes], top: str = "tiny-ja/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(top + path, content)
    return buffer.getvalue()


MANIFEST = {"tiny-ja": spec_of(FILES)}


class Server:
    """Serves fixed bytes per path on 127.0.0.1 from a thread; counts requests."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.short: set[str] = set()
        self.hits = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                server.hits += 1
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                extra = 100_000 if self.path in server.short else 0  # promise more than is sent
                self.send_header("Content-Length", str(len(body) + extra))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir() if p.name.startswith("."))


def test_the_real_manifest_lists_every_file_of_both_models() -> None:
    manifest = load_manifest()
    ja, whisper = manifest["vosk-model-small-ja-0.22"], manifest["whisper-base"]
    assert (len(ja.files), ja.total_bytes) == (16, 98_852_853)
    assert ja.url == "https://alphacephei.com/vosk/models/vosk-model-small-ja-0.22.zip"
    assert (ja.engine, ja.language) == ("vosk", "ja")
    assert {f.path for f in whisper.files} == {
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.json",
    }
    assert whisper.url is None


@pytest.mark.skipif(not PARTIAL_JA.is_dir(), reason=f"{PARTIAL_JA} not present")
def test_the_partial_japanese_model_lacks_exactly_the_four_large_files() -> None:
    problems = verify_model(PARTIAL_JA, load_manifest()["vosk-model-small-ja-0.22"])
    assert {p.path for p in problems} == LARGE_JA
    assert {p.kind for p in problems} == {"missing"}


@pytest.mark.skipif(not WHISPER.is_dir(), reason=f"{WHISPER} not present")
def test_whisper_base_verifies_completely() -> None:
    assert verify_model(WHISPER, load_manifest()["whisper-base"]) == []


@pytest.mark.skipif(not PARTIAL_JA.is_dir(), reason=f"{PARTIAL_JA} not present")
def test_the_japanese_vocabulary_is_recognised_as_japanese() -> None:
    assert detect_language(PARTIAL_JA / "graph" / "words.txt") == "ja"
    check_language(PARTIAL_JA, "ja")


@pytest.mark.parametrize(
    ("words", "looks"),
    [
        ("hello\nworld\nyes\nno\n", "Latin-script"),
        ("네\n아니요\n오른쪽\n", "Korean"),
        ("你好\n谢谢\n是\n", "Chinese"),
    ],
)
def test_a_model_in_another_language_is_refused(tmp_path: Path, words: str, looks: str) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text(
        "<eps> 0\n" + "".join(f"{w} {i}\n" for i, w in enumerate(words.split(), 1)), encoding="utf-8"
    )
    with pytest.raises(ModelError, match=f"is not a Japanese model .*looks {looks}.*kiosk models install"):
        check_language(tmp_path, "ja")


@pytest.mark.skipif(not PARTIAL_JA.is_dir(), reason=f"{PARTIAL_JA} not present")
def test_the_engine_refuses_a_model_of_the_wrong_language_before_loading_it(tmp_path: Path) -> None:
    # the real Japanese vocabulary, in a folder laid out like a complete model of empty files
    for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    (tmp_path / "graph" / "words.txt").symlink_to(PARTIAL_JA / "graph" / "words.txt")
    with pytest.raises(ModelError, match="is not a Korean model .*looks Japanese"):
        VoskRecognizer(tmp_path, language="ko")


def test_a_file_cut_short_is_reported_as_partially_downloaded(tmp_path: Path) -> None:
    spec = FileSpec("am/final.mdl", 1000, hashlib.sha256(b"x" * 1000).hexdigest())
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"x" * 400)
    problem = verify_file(tmp_path, spec)
    assert problem is not None and str(problem) == "am/final.mdl: partially downloaded: 400 of 1000 bytes"
    (tmp_path / "am" / "final.mdl").write_bytes(b"x" * 1001)
    assert verify_file(tmp_path, spec).kind == "size"  # type: ignore[union-attr]
    (tmp_path / "am" / "final.mdl").write_bytes(b"y" * 1000)
    assert verify_file(tmp_path, spec).kind == "sha256"  # type: ignore[union-attr]
    (tmp_path / "am" / "final.mdl").write_bytes(b"x" * 1000)
    assert verify_file(tmp_path, spec) is None


def test_download_unpack_verify_and_install(server: Server, tmp_path: Path) -> None:
    server.routes["/tiny.zip"] = zip_of(FILES)
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "models"
    installed = install_model(
        "tiny-ja",
        dest,
        url=server.url("/tiny.zip"),
        manifest=MANIFEST,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert installed == dest / "tiny-ja"
    assert verify_model(installed, MANIFEST["tiny-ja"]) == []
    assert seen and seen[-1] == (len(server.routes["/tiny.zip"]),) * 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(dest) == []
    # an intact install is kept: no second download
    assert install_model("tiny-ja", dest, url=server.url("/tiny.zip"), manifest=MANIFEST) == installed
    assert server.hits == 1


def test_a_damaged_download_installs_nothing(server: Server, tmp_path: Path) -> None:
    server.routes["/bad.zip"] = zip_of({**FILES, "conf/model.conf": b"--min-active=999\n"})
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"conf/model.conf: is damaged.*nothing was installed.*--from-zip"):
        install_model("tiny-ja", dest, url=server.url("/bad.zip"), manifest=MANIFEST, progress=None)
    assert list(dest.iterdir()) == []


def test_a_broken_install_is_replaced_whole(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    (dest / "tiny-ja" / "graph").mkdir(parents=True)
    (dest / "tiny-ja" / "graph" / "words.txt").write_bytes(b"<eps> 0\n")  # half of an old attempt
    server.routes["/tiny.zip"] = zip_of(FILES, top="")
    install_model("tiny-ja", dest, url=server.url("/tiny.zip"), manifest=MANIFEST, progress=None)
    assert verify_model(dest / "tiny-ja", MANIFEST["tiny-ja"]) == []
    assert leftovers(dest) == []


def test_a_broken_off_download_is_reported(server: Server, tmp_path: Path) -> None:
    server.routes["/short.zip"] = zip_of(FILES)
    server.short.add("/short.zip")
    with pytest.raises(ModelError, match="broke off after .*--from-zip"):
        install_model("tiny-ja", tmp_path, url=server.url("/short.zip"), manifest=MANIFEST, progress=None)
    assert not (tmp_path / "tiny-ja").exists() and leftovers(tmp_path) == []


def test_no_network_suggests_installing_from_a_zip(tmp_path: Path) -> None:
    closed = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there any more
    with pytest.raises(ModelError, match=r"no network: .*`kiosk models install tiny-ja --from-zip FILE`"):
        install_model(
            "tiny-ja", tmp_path, url=f"http://127.0.0.1:{port}/x.zip", manifest=MANIFEST, progress=None
        )
    assert leftovers(tmp_path) == []


def test_a_missing_file_on_the_server_is_reported(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="HTTP 404.*--from-zip"):
        install_model("tiny-ja", tmp_path, url=server.url("/gone.zip"), manifest=MANIFEST, progress=None)


def test_install_from_a_zip_file(tmp_path: Path) -> None:
    archive = tmp_path / "tiny.zip"
    archive.write_bytes(zip_of(FILES))
    installed = install_model("tiny-ja", tmp_path / "models", from_zip=archive, manifest=MANIFEST)
    assert verify_model(installed, MANIFEST["tiny-ja"]) == []


def test_an_install_cut_off_by_a_power_cut_leaves_nothing_behind_the_next_one(tmp_path: Path) -> None:
    # A killed install cannot clean up after itself; its hidden staging folder would stay on the SD card.
    models = tmp_path / "models"
    stale = models / ".tiny-ja.installing-abc123"
    (stale / "model").mkdir(parents=True)
    (stale / "download.zip.partial").write_bytes(b"\0" * 1000)
    other = models / ".other-model.installing-xyz"  # another model's install is not touched
    other.mkdir()
    archive = tmp_path / "tiny.zip"
    archive.write_bytes(zip_of(FILES))
    install_model("tiny-ja", models, from_zip=archive, manifest=MANIFEST)
    assert sorted(p.name for p in models.iterdir()) == [".other-model.installing-xyz", "tiny-ja"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"this is not a zip", "is not a complete zip file"),
        (zip_of({"../../evil": b"x"}, top=""), "unsafe path"),
        (zip_of({"big": b"\0" * 3_000_000}), "unpacks to far more"),
    ],
)
def test_bad_zip_files_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    archive = tmp_path / "model.zip"
    if content is not None:
        archive.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        install_model("tiny-ja", tmp_path / "models", from_zip=archive, manifest=MANIFEST)
    assert not (tmp_path / "models" / "tiny-ja").exists()
    assert not (tmp_path / "evil").exists()


def test_a_model_in_the_wrong_language_is_not_installed(tmp_path: Path) -> None:
    english = {**FILES, "graph/words.txt": b"<eps> 0\nyes 1\nno 2\nright 3\n"}
    archive = tmp_path / "en.zip"
    archive.write_bytes(zip_of(english))
    with pytest.raises(ModelError, match="not a Japanese model"):
        install_model(
            "tiny-ja", tmp_path / "models", from_zip=archive, manifest={"tiny-ja": spec_of(english)}
        )
    assert list((tmp_path / "models").iterdir()) == []


def test_a_model_without_a_download_address_needs_a_zip(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="has no download address.*--from-zip") as err:
        install_model("whisper-base", tmp_path)
    assert "model.bin" in str(err.value) and "tokenizer.json" in str(err.value), "which files the zip must hold"


def test_an_unknown_model_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match="unknown model 'vosk-en'; known models: vosk-model-small-ja-0.22, whisper-base"
    ):
        install_model("vosk-en", tmp_path)


def test_the_default_progress_is_plain_text_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    progress = StderrProgress("downloading tiny")
    progress(0, 2_000_000)
    progress(2_000_000, 2_000_000)
    progress(500_000, None)
    err = capsys.readouterr().err
    assert "downloading tiny [" in err and "2.0 of 2.0 MB (100%)\n" in err


def test_a_broken_manifest_is_a_content_error(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.yaml"
    bad.write_text(
        "models:\n  x:\n    engine: vosk\n    language: ja\n    url: null\n"
        "    files:\n      - {path: a, bytes: -1, sha256: ab}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match=r"models.x.files\[0\].*bytes"):
        load_manifest(bad)
