"""Put one benchmark's printed output into a results file (bench/RESULTS.md) in a section of its own,
with the command that made it. The next run of the same benchmark replaces that section; the other
sections stay as they were, so running one benchmark again never loses the others' numbers.

Usage: python bench/results.py RESULTS_FILE BENCHMARK COMMAND OUTPUT_FILE EXIT_STATUS
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HEADER = """# Benchmark results

Written by `make bench` (scripts/bench.sh; `make bench-quick` writes bench/RESULTS-quick.md). Each
section is one benchmark's printed output, with the command that made it; a run of one benchmark
replaces its own section only.
"""


def section(benchmark: str, command: str, output: str, status: int) -> str:
    # Markdown tables go in as they are; plain aligned text stays aligned in a code block.
    markdown = any(line.startswith("|") for line in output.splitlines())
    body = output.strip() if markdown else f"```\n{output.rstrip()}\n```"
    failed = "" if status == 0 else f" — exited {status}: a target or a check failed, or it did not finish"
    return f"<!-- {benchmark} -->\n### {benchmark}\n\nMade by `{command}`{failed}.\n\n{body}\n<!-- end {benchmark} -->\n"


def updated(text: str, benchmark: str, new: str) -> str:
    pattern = re.compile(rf"<!-- {re.escape(benchmark)} -->\n.*?<!-- end {re.escape(benchmark)} -->\n", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _match: new, text, count=1)
    return f"{text.rstrip()}\n\n{new}"


def main() -> int:
    results, benchmark, command, output, status = sys.argv[1:6]
    path = Path(results)
    text = path.read_text() if path.exists() else HEADER
    new = section(benchmark, command, Path(output).read_text(), int(status))
    path.write_text(updated(text, benchmark, new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
