"""Render 1,000 instances' user-data of the htcondor-worker example in every format (docs/performance.md).

Usage: .venv/bin/python bench/render_bench.py [--instances N]
Target: 1,000 instances in at most 1 s per format. Each row says whether it met it; like every
benchmark here it is a measurement, not a test: it exits non-zero only when rendering fails, never
for a machine that was slow that minute (a rendering slower than before shows in the table).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clusters.providers import provider_class  # noqa: E402
from contexts.document import parse_yaml  # noqa: E402
from contexts.render import FORMATS, UserDataLimit, render  # noqa: E402
from contexts.templating import parse_variables  # noqa: E402

EC2 = provider_class("ec2")  # a launch on EC2 fits its user-data to the limit its class declares
EC2_LIMIT = UserDataLimit(EC2.kind, EC2.user_data_limit, EC2.label)

TARGET_SECONDS = 1.0


def variables_for(index: int) -> dict:
    return parse_variables(
        {
            "cluster.name": "bench",
            "cluster.id": "1",
            "role.name": "worker",
            "instance.index": str(index),
            "instance.name": f"bench-worker-{index}",
            "roles.master.address": "10.0.0.5",
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    args = parser.parse_args()
    document = parse_yaml((ROOT / "examples" / "htcondor-worker.yaml").read_text())
    variables = [variables_for(i) for i in range(args.instances)]
    salt_seed = b"bench-revision-salt"

    print(
        f"{'format':<12} {'instances':>9} {'total s':>9} {'per instance ms':>16} {'bytes':>7} {'target met':>10}"
    )
    for fmt in FORMATS:
        render(document, variables[0], fmt, salt_seed=salt_seed)  # warm the template and hash caches
        started = time.perf_counter()
        for instance_variables in variables:
            output = render(document, instance_variables, fmt, salt_seed=salt_seed, limit=EC2_LIMIT)
        total = time.perf_counter() - started
        met = "yes" if total <= TARGET_SECONDS * args.instances / 1000 else "no"
        print(
            f"{fmt:<12} {args.instances:>9} {total:>9.3f} {total * 1000 / args.instances:>16.3f} {len(output):>7}"
            f" {met:>10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
