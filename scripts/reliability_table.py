"""Write the fault tests' results (clusters/tests/fault_results.py) as the table of docs/reliability.md:
one line per fault, the runs of it added up, between the marks `<!-- fault table -->` and
`<!-- end fault table -->`, which this replaces (the rest of the page is left as it is).

    python scripts/reliability_table.py [RESULTS_FILE] [PAGE]    (`make reliability` runs it)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- fault table -->", "<!-- end fault table -->"
COLUMNS = [
    "Fault",
    "Times tried",
    "Passed",
    "Nodes expected / found",
    "Duplicates",
    "Lost records",
    "Slowest run",
]


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _total(runs: list[dict], field: str) -> str:
    """The sum over the runs; "?" for a run that ended before it could be measured."""
    values = [run.get(field) for run in runs]
    known = sum(value for value in values if value is not None)
    return f"{known}" + (" + ?" if None in values else "")


def table(rows: list[dict]) -> str:
    faults: dict[str, list[dict]] = {}
    for row in rows:  # in the order the tests ran them
        faults.setdefault(row["fault"], []).append(row)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for fault, runs in faults.items():
        passed = sum(1 for run in runs if run["passed"])
        expected = sum(run["expected"] for run in runs)
        slowest = max(run["seconds"] for run in runs)
        cells = [fault, str(len(runs)), f"{passed} of {len(runs)}", f"{expected} / {_total(runs, 'found')}",
                 _total(runs, "duplicates"), _total(runs, "lost"), f"{slowest:.0f} s"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def block(rows: list[dict]) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    when = max(row["at"] for row in rows) if rows else datetime.now(UTC).isoformat(timespec="seconds")
    made = f"Made by the fault tests (`make reliability`) on {when[:10]}, at commit {commit.stdout.strip() or '?'}."
    return f"{START}\n{made}\n\n{table(rows)}\n{END}"


def updated(page: str, new_block: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(page):
        raise SystemExit(f"the page has no {START} … {END} block to replace")
    return pattern.sub(lambda _match: new_block, page, count=1)


def main(argv: list[str]) -> int:
    results = Path(argv[1]) if len(argv) > 1 else ROOT / "var" / "fault-results.jsonl"
    page = Path(argv[2]) if len(argv) > 2 else ROOT / "docs" / "reliability.md"
    if not results.exists():
        raise SystemExit(f"no results in {results}: run the fault tests first (make reliability)")
    page.write_text(updated(page.read_text(), block(read_rows(results))))
    print(f"{page}: table of {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
