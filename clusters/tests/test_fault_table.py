"""The table of docs/reliability.md is made from the fault tests' rows (scripts/reliability_table.py),
never by hand: every run counts, failed ones too, and only the marked block of the page changes."""

import json
import subprocess
import sys
from pathlib import Path

from clusters.tests.fault_results import fault_row

ROOT = Path(__file__).resolve().parents[2]
PAGE = "# Reliability\n\nBefore.\n\n<!-- fault table -->\nold table\n<!-- end fault table -->\n\nAfter.\n"


def run_faults(tmp_path, monkeypatch):
    """Two runs of a fault that passed and one that failed before it could measure anything."""
    monkeypatch.setenv("FAULT_RESULTS", str(tmp_path / "results.jsonl"))
    for found in (50, 49):
        with fault_row("Redis restarted", 50) as row:
            row.measure = lambda found=found: {"found": found, "duplicates": 50 - found, "lost": 0}
            row.take()
    try:
        with fault_row("Redis restarted", 50):
            raise AssertionError("the site did not start")
    except AssertionError:
        pass
    return tmp_path / "results.jsonl"


def test_each_run_of_a_fault_test_appends_its_row_passed_or_not(tmp_path, monkeypatch):
    rows = [json.loads(line) for line in run_faults(tmp_path, monkeypatch).read_text().splitlines()]

    assert [(r["passed"], r["found"], r["duplicates"]) for r in rows] == [(True, 50, 0), (True, 49, 1),
                                                                          (False, None, None)]  # fmt: skip


def test_the_generator_adds_the_runs_up_into_the_marked_block_only(tmp_path, monkeypatch):
    results = run_faults(tmp_path, monkeypatch)
    page = tmp_path / "reliability.md"
    page.write_text(PAGE)

    subprocess.run(
        [sys.executable, "scripts/reliability_table.py", str(results), str(page)], cwd=ROOT, check=True
    )

    text = page.read_text()
    assert text.startswith("# Reliability\n\nBefore.\n\n<!-- fault table -->\nMade by the fault tests")
    assert text.endswith("<!-- end fault table -->\n\nAfter.\n")
    assert "old table" not in text
    assert "| Redis restarted | 3 | 2 of 3 | 150 / 99 + ? | 1 + ? | 0 + ? |" in text


def test_the_generator_refuses_a_page_without_the_marks(tmp_path, monkeypatch):
    results = run_faults(tmp_path, monkeypatch)
    page = tmp_path / "reliability.md"
    page.write_text("# Reliability\n")

    done = subprocess.run([sys.executable, "scripts/reliability_table.py", str(results), str(page)], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip

    assert done.returncode != 0
    assert "no <!-- fault table --> … <!-- end fault table --> block" in done.stderr
    assert page.read_text() == "# Reliability\n"
