"""The fault tests' results: each run of a fault test appends one row — fault, passed, nodes expected and
found, duplicates, lost records, seconds — to a JSON-lines file, pass or fail; scripts/reliability_table.py
turns the rows into the table of docs/reliability.md. FAULT_RESULTS names the file
(var/fault-results.jsonl by default)."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def results_path() -> Path:
    return Path(os.environ.get("FAULT_RESULTS") or ROOT / "var" / "fault-results.jsonl")


class Row:
    def __init__(self, fault: str, expected: int):
        self.fault, self.expected = fault, expected
        self.measure = None  # set by the test once it knows what to measure: () -> outcome dict
        self.measured: dict | None = None

    def take(self) -> dict:
        """Measure now (the test asserts on it); the row keeps it."""
        self.measured = self.measure()
        return self.measured


@contextmanager
def fault_row(fault: str, expected: int):
    """Append the row of this run of `fault` when the block ends, however it ends; a test that failed
    before measuring is measured then, if it got as far as having something to measure."""
    row, started, passed = Row(fault, expected), time.monotonic(), False
    try:
        yield row
        passed = True
    finally:
        found = row.measured
        if found is None and row.measure is not None:
            try:
                found = row.measure()
            except Exception as exc:  # noqa: BLE001 - a row must be written even when the site is broken
                found = {"error": f"{type(exc).__name__}: {exc}"}
        found = found or {}
        record = {"fault": fault, "passed": passed, "expected": expected, "found": found.get("found"),
                  "duplicates": found.get("duplicates"), "lost": found.get("lost"),
                  "seconds": round(time.monotonic() - started, 1), "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        path = results_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as results:
            results.write(json.dumps(record) + "\n")
