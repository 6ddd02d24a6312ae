"""A stand-in HTCondor pool for the head's collector (contexts/services/condor.py COLLECTOR), which
the tests run for real: HTCondor cannot be installed here. `condor_q`, `condor_status` and
`condor_drain` on PATH answer from files this class writes, in the columns of the captured outputs
in clusters/tests/batch_outputs/condor/ (`condor_status -af Machine Name State Activity
EnteredCurrentState MyCurrentTime LastHeardFrom`, one static slot per worker), and `condor_drain`
marks the machine drained as HTCondor does: Drained/Retiring while a job still runs, Drained/Idle
once none does."""

from __future__ import annotations

import os
import time
from pathlib import Path

COLUMNS = "Machine Name State Activity EnteredCurrentState MyCurrentTime LastHeardFrom"
DOMAIN = "cloud.example"

CONDOR_Q = """#!/bin/sh
cat "$POOL/jobs"
"""
# Prints the asked attributes' columns of $POOL/slots; the drained machines' State and Activity
# follow condor_drain; @NOW@ is the head's clock as it answers.
CONDOR_STATUS = f"""#!/bin/sh
shift
now=$(date +%s)
touch "$POOL/drained"
awk -v wanted="$*" -v now="$now" '
BEGIN {{
    split("{COLUMNS}", names, " ")
    for (i in names) column[names[i]] = i
    count = split(wanted, attributes, " ")
}}
FILENAME == ARGV[1] {{ drained[$1] = 1; next }}
{{
    gsub(/@NOW@/, now)
    if ($1 in drained) {{ $4 = ($3 == "Claimed") ? "Retiring" : "Idle"; $3 = "Drained" }}
    line = ""
    for (i = 1; i <= count; i++) line = line (i > 1 ? " " : "") $(column[attributes[i]])
    print line
}}' "$POOL/drained" "$POOL/slots"
"""
CONDOR_DRAIN = """#!/bin/sh
echo "condor_drain $*" >>"$POOL/calls"
for last; do :; done
echo "$last" >>"$POOL/drained"
"""


class FakePool:
    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("condor_q", CONDOR_Q),
            ("condor_status", CONDOR_STATUS),
            ("condor_drain", CONDOR_DRAIN),
        ):
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)
        self.since: dict[str, tuple[str, int]] = {}  # worker -> (state, when it entered it)
        self.set(idle_jobs=0, running_jobs=0, workers={})

    def env(self) -> dict:
        return {"PATH": f"{self.bin}:{os.environ['PATH']}", "POOL": str(self.root)}

    def set(self, *, idle_jobs: int, running_jobs: int, workers: dict[str, str]) -> None:
        """The queue, and each worker's state in the pool: "busy" or "idle" (drained machines stay
        drained)."""
        now = int(time.time())
        lines = []
        for name, state in sorted(workers.items()):
            if self.since.get(name, ("",))[0] != state:
                self.since[name] = (state, now)
            slot_state = "Claimed Busy" if state == "busy" else "Unclaimed Idle"
            host = f"{name}.{DOMAIN}"
            lines.append(f"{host} slot1@{host} {slot_state} {self.since[name][1]} @NOW@ @NOW@\n")
        self._write("slots", "".join(lines))
        self._write("jobs", "1\n" * idle_jobs + "2\n" * running_jobs)

    def drained(self) -> set[str]:
        path = self.root / "drained"
        return {line.split(".")[0] for line in path.read_text().split()} if path.exists() else set()

    def _write(self, name: str, text: str) -> None:
        # Whole files only: the collector may read them at any moment.
        part = self.root / f".{name}.part"
        part.write_text(text)
        part.replace(self.root / name)
