"""The apps' layers (docs/architecture.md): profiles (contexts) know nothing of clusters; clusters
build on profiles. A page that needs both is put together by clusters or by the project (portal)."""

import re
from pathlib import Path

CONTEXTS = Path(__file__).resolve().parents[1]
IMPORTS_CLUSTERS = re.compile(r"^\s*(from|import)\s+clusters\b", re.MULTILINE)


def test_no_module_of_contexts_imports_clusters():
    modules = [p for p in CONTEXTS.rglob("*.py") if "tests" not in p.relative_to(CONTEXTS).parts]
    assert CONTEXTS / "marketplace.py" in modules
    assert [str(p) for p in modules if IMPORTS_CLUSTERS.search(p.read_text())] == []
