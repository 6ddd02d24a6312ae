"""The example profiles and fixed launch variables the renderer tests share."""

from pathlib import Path

from contexts.document import parse_yaml
from contexts.render import render
from contexts.templating import parse_variables

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))
SALT_SEED = b"context-portal-golden-salt"

VARIABLES = parse_variables(
    [
        "cluster.name=demo",
        "cluster.id=7",
        "cluster.secret=demo-cluster-secret",
        "role.name=worker",
        "instance.index=3",
        "instance.name=demo-worker-3",
        "roles.master.address=10.0.0.5",
        "roles.worker.addresses=10.0.0.6,10.0.0.7",
        "portal.url=https://portal.example.org",
    ]
)


def example(name: str) -> dict:
    return parse_yaml((EXAMPLES_DIR / f"{name}.yaml").read_text())


def render_example(name: str, fmt: str, **options) -> bytes:
    options.setdefault("salt_seed", SALT_SEED)
    return render(example(name), VARIABLES, fmt, **options)
