"""Start-up and memory of one engine in a fresh process: `python -m bench.probe --engine vosk`.

Prints one JSON object. Start-up is measured from the moment the operating system created this process
(interpreter start, imports, content, prompt audio, model load, session assembly) to the first sample of
the first prompt handed to the audio output. Then one answer is recognised, so the peak memory covers a
model in use, not just loaded. Peak resident memory is the kernel's high-water mark (VmHWM).
"""

from __future__ import annotations

import time

_T_MAIN = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    """VmHWM: this process's peak resident memory. (ru_maxrss is not used: Linux carries it over exec from
    the parent process, so a probe started by a big benchmark process would report the parent's peak.)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _created() -> float:
    """Wall time the process was created: now minus its age (/proc/self/stat start vs /proc/uptime, 10 ms)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat; pid and comm are cut off above
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return time.time() - (uptime - start)


def probe(engine: str, recognise: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": engine, "pid": os.getpid()}
    t_import = time.time()
    from bench.common import load_engine, settings_for
    from kiosk.audio.sources import FileSource
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.clock import SystemClock
    from kiosk.session.assembly import build_session, load_parts

    settings = settings_for("whisper" if engine == "none" else engine)
    t_parts = time.time()
    parts = load_parts(settings)
    t_model = time.time()
    recognizer: Any = None
    if engine != "none":
        recognizer = load_engine(engine, settings)
    t_session = time.time()
    first: list[float] = []

    class FirstPrompt(RecordingOutput):
        def start(self, pcm: bytes) -> None:
            if not first:
                first.append(time.time())
            super().start(pcm)

    session = build_session(settings, parts, recognizer, FileSource([]), FirstPrompt(), None, lambda e: None,
                            None, SystemClock(), "probe")
    session.run()  # welcome + first question, then no answer file: the session ends
    created = _created()
    out.update({
        "interpreter_seconds": _T_MAIN - created,
        "import_seconds": t_parts - t_import,
        "content_and_prompts_seconds": t_model - t_parts,
        "model_load_seconds": t_session - t_model,
        "session_to_first_prompt_seconds": (first[0] - t_session) if first else None,
        "startup_seconds": (first[0] - created) if first else None,
        "rss_after_startup_mb": _rss_mb(),
        "peak_rss_after_startup_mb": _peak_mb(),
    })
    if recognizer is not None:
        import hashlib

        source = getattr(sys.modules.get(type(recognizer).__module__), "__file__", None)
        out["source_sha256"] = hashlib.sha256(open(source, "rb").read()).hexdigest()[:12] if source else None
    if recognise and recognizer is not None:
        out.update(_recognise_one(engine, recognizer))
    out["peak_rss_mb"] = _peak_mb()
    out["rss_mb"] = _rss_mb()
    out["open_files"] = len(os.listdir("/proc/self/fd"))
    out["threads"] = len(os.listdir("/proc/self/task"))
    return out


def _recognise_one(engine: str, recognizer: Any) -> dict[str, Any]:
    from bench.common import JA_AUDIO, KO_AUDIO, chunks_of, load_content, padded
    from kiosk.audio.endpoint import Endpointer
    from kiosk.audio.wav import read_wav
    from kiosk.clock import SystemClock
    from kiosk.session.listening import listen

    path = KO_AUDIO / "yes__네.wav" if engine == "vosk" else JA_AUDIO / "clean" / "yes__はい__mei.wav"
    grammar = load_content(engine).phrases.grammar(("yes", "no"))
    started = time.time()
    heard = listen(chunks_of(padded(read_wav(path).audio)), Endpointer(), recognizer, grammar, SystemClock())
    return {"first_answer_seconds": time.time() - started,
            "first_answer": heard.recognition.answer if heard.recognition else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__)
    parser.add_argument("--engine", choices=("vosk", "whisper", "none"), required=True)
    parser.add_argument("--no-recognise", action="store_true", help="only start up")
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.engine, not args.no_recognise)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
