"""Shared helpers of the benchmarks: percentiles, a plain-text table, and the results JSON."""

import json
import math
import os
import platform
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"

_STARTED = time.perf_counter()


def log(message):
    """Print a progress line with the seconds since the run started (stderr)."""
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(values, p):
    """The nearest-rank percentile of ``values``.

    :param values: numbers, in any order.
    :param p: the percentile, 0–100.
    :returns: the value at that rank, or ``None`` when ``values`` is empty.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds):
    """p50/p95/p99 and mean of durations, in milliseconds.

    :param seconds: durations in seconds.
    :returns: ``{"n", "p50_ms", "p95_ms", "p99_ms", "mean_ms"}`` (``None`` values when empty).
    """
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": _round(percentile(ms, 50)),
        "p95_ms": _round(percentile(ms, 95)),
        "p99_ms": _round(percentile(ms, 99)),
        "mean_ms": _round(sum(ms) / len(ms)) if ms else None,
    }


def ratio(numerator, denominator):
    """``numerator / denominator`` rounded, or ``None`` when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def _round(value, digits=2):
    return None if value is None else round(value, digits)


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(columns, rows):
    """Render rows as an aligned plain-text (Markdown-compatible) table.

    :param columns: ``(key, heading)`` pairs, in order.
    :param rows: dicts holding those keys; missing or ``None`` cells print as ``-``.
    :returns: the table as one string.
    """
    cells = [[heading for _, heading in columns]]
    cells += [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]

    def line(values):
        # Text columns left, numbers right, as a reader scans them.
        parts = [
            value.rjust(width) if i and _numeric(value) else value.ljust(width)
            for i, (value, width) in enumerate(zip(values, widths))
        ]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(values) for values in cells[1:]])


def _numeric(text):
    return text.replace(",", "").replace(".", "", 1).replace("-", "", 1).isdigit() or text == "-"


def environment():
    """Where a run happened: Python, platform, CPU count, time."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_json(data, path):
    """Write ``data`` as indented JSON, creating the folder.

    :param data: a JSON-serializable mapping.
    :param path: the file (a str or Path).
    :returns: the Path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
