"""PNG plots of the report: confusion matrices, latency distributions, soak curves (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.recognition import OOV_ROW

FIRST = ("yes", "no", "unknown", "repeat", "emergency")
GROUPS = ("yes", "no", "unknown", "other answer")
COLUMNS = ("yes", "no", "unknown", "repeat", "its answer", "a different answer")
"""Grouped columns: for rows of the other answer values, 'its answer' is right and 'a different answer' wrong."""


def _order(labels: set[str]) -> list[str]:
    return [x for x in FIRST if x in labels] + sorted(labels - set(FIRST) - {OOV_ROW}) + (
        [OOV_ROW] if OOV_ROW in labels else [])


def _matrix(ax: Any, table: dict[str, dict[str, int]], rows: list[str], cols: list[str], title: str,
            annotate: bool = True) -> None:
    counts = [[table.get(r, {}).get(c, 0) for c in cols] for r in rows]
    shares = [[v / max(1, sum(row)) for v in row] for row in counts]
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("recognised", fontsize=8)
    ax.set_ylabel("expected (oov: out of grammar)", fontsize=8)
    ax.set_title(title, fontsize=9)
    if annotate:
        for i, row in enumerate(counts):
            for j, v in enumerate(row):
                if v:
                    safe = {rows[i], "unknown", "repeat", "its answer"}
                    danger = cols[j] not in safe
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                            color="red" if danger else ("white" if shares[i][j] > 0.6 else "black"))


def confusion_full(table: dict[str, dict[str, int]], title: str, path: Path) -> Path:
    labels = set(table) | {c for row in table.values() for c in row}
    rows = _order(set(table))
    cols = [c for c in _order(labels) if c != OOV_ROW]
    size = max(5.0, 0.32 * len(cols) + 2)
    fig, ax = plt.subplots(figsize=(size, max(4.0, 0.3 * len(rows) + 2)))
    _matrix(ax, table, rows, cols, title)
    return _save(fig, path)


def _group(label: str) -> str:
    return label if label in ("yes", "no", "unknown", OOV_ROW) else "other answer"


def _column(expected: str, got: str) -> str:
    if got == expected and _group(expected) == "other answer":
        return "its answer"  # もう一度 heard as もう一度 is right
    if got in ("yes", "no", "unknown", "repeat"):
        return got
    return "its answer" if got == expected else "a different answer"


def confusion_by_condition(per_condition: dict[str, dict[str, dict[str, int]]], title: str, path: Path) -> Path:
    """One small grouped matrix per condition: rows yes / no / unknown / other answer values / oov; columns
    yes / no / unknown / repeat / its own answer / a different answer (red counts: a wrong real answer)."""
    conditions = list(per_condition)
    cols_n = min(3, len(conditions))
    rows_n = -(-len(conditions) // cols_n)
    fig, axes = plt.subplots(rows_n, cols_n, figsize=(3.6 * cols_n, 3.2 * rows_n), squeeze=False)
    for k, condition in enumerate(conditions):
        grouped: dict[str, dict[str, int]] = {}
        for r, cols in per_condition[condition].items():
            for c, v in cols.items():
                row = grouped.setdefault(_group(r), {})
                row[_column(r, c)] = row.get(_column(r, c), 0) + v
        rows = [g for g in (*GROUPS, OOV_ROW) if g in grouped]
        _matrix(axes[k // cols_n][k % cols_n], grouped, rows, list(COLUMNS), condition)
    for k in range(len(conditions), rows_n * cols_n):
        axes[k // cols_n][k % cols_n].axis("off")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def latency_parts(engine: str, turns: list[dict[str, Any]], names: dict[str, str], path: Path) -> Path:
    """Histograms of each part of the turn latency (milliseconds)."""
    parts = list(names)
    fig, axes = plt.subplots(1, len(parts), figsize=(3.6 * len(parts), 3.0), squeeze=False)
    for ax, part in zip(axes[0], parts):
        values = [1000 * t[part] for t in turns if t.get(part) is not None]
        if values:
            lo, hi = min(values), max(values)
            ax.hist(values, bins=30 if hi - lo > 1e-6 else 1, range=(lo, hi) if hi - lo > 1e-6 else (lo - 1, hi + 1),
                    color="#4c72b0")
            ax.ticklabel_format(axis="x", useOffset=False)
            ax.locator_params(axis="x", nbins=5)
        ax.set_title(names[part], fontsize=8)
        ax.set_xlabel("ms", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{engine}: turn latency by part ({len(turns)} turns of replayed sessions)", fontsize=10)
    return _save(fig, path)


def decide_distribution(per_engine: dict[str, dict[str, list[float]]], path: Path,
                        targets: dict[str, float]) -> Path:
    """Endpoint → answer decided, per engine and method, over every recognised utterance of the recognition
    section, whose audio is fed at once: the decision's whole compute time (box plots, ms). At a microphone's
    pace Whisper does most of it during the trailing silence (the latency section's figure, which the target
    is checked on)."""
    labels, data = [], []
    for engine, methods in per_engine.items():
        for method, values in methods.items():
            if values:
                labels.append(f"{engine}\n{method}")
                data.append([1000 * v for v in values])
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(data) + 1), 3.8))
    if data:
        ax.boxplot(data, whis=(5, 95), showfliers=True)
        ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=8)
        ax.set_yscale("log")
    for engine, target in targets.items():
        ax.axhline(1000 * target, linestyle="--", linewidth=0.8, color="red")
        ax.text(0.52, 1000 * target, f"{engine} target {1000 * target:.0f} ms", fontsize=7, color="red",
                va="bottom")
    ax.set_ylabel("endpoint → decided (ms, log)", fontsize=8)
    ax.set_title("Decision compute time, every utterance fed at once (whiskers 5–95 %; targets apply to the "
                 "paced sessions)", fontsize=8)
    return _save(fig, path)


def emergency(per_engine: dict[str, list[float]], target: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 3))
    for i, (engine, values) in enumerate(per_engine.items()):
        ax.scatter([1000 * v for v in values], [i] * len(values), label=engine)
    ax.axvline(1000 * target, linestyle="--", color="red", linewidth=0.8)
    ax.set_yticks(range(len(per_engine)), list(per_engine))
    ax.set_xlabel("answer decided → first sample of the emergency prompt (ms)", fontsize=8)
    ax.set_title(f"Emergency path (target ≤ {1000 * target:.0f} ms, dashed)", fontsize=9)
    return _save(fig, path)


def soak(result: dict[str, Any], path: Path) -> Path:
    rows = result["rows"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    i = [r["i"] for r in rows]
    axes[0].plot(i, [r["rss_mb"] for r in rows], linewidth=0.8)
    axes[0].set_title("resident memory (MB)", fontsize=9)
    axes[1].plot(i, [r["open_files"] for r in rows], linewidth=0.8, label="open files")
    axes[1].plot(i, [r["threads"] for r in rows], linewidth=0.8, label="threads")
    axes[1].legend(fontsize=7)
    axes[1].set_title("open files, threads", fontsize=9)
    for kind in sorted({r["kind"] for r in rows}):
        sel = [r for r in rows if r["kind"] == kind]
        axes[2].plot([r["i"] for r in sel], [r["wall"] for r in sel], ".", markersize=2, label=kind)
    axes[2].legend(fontsize=7)
    axes[2].set_title("session wall time (s)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("session", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"Soak: {result['sessions']} sessions in one process ({result['engine']})", fontsize=10)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    """Lay out, write the PNG and free the figure (matplotlib keeps every open figure in memory)."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
