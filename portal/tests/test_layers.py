"""The apps' layers (docs/architecture.md): profiles (contexts) know nothing of clusters; clusters
build on profiles; the REST API and the pages share one access module per app and never import
each other."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules(app: str) -> list[Path]:
    folder = ROOT / app
    return [p for p in folder.rglob("*.py") if "tests" not in p.relative_to(folder).parts]


def importing(pattern: str, paths: list[Path]) -> list[str]:
    found = re.compile(rf"^\s*(from|import)\s+{pattern}", re.MULTILINE)
    return [str(p.relative_to(ROOT)) for p in paths if found.search(p.read_text())]


def test_no_module_of_contexts_imports_clusters():
    assert ROOT / "contexts" / "marketplace.py" in modules("contexts")
    assert importing(r"clusters\b", modules("contexts")) == []


def test_no_api_module_imports_the_pages_views():
    api = [p for app in ("contexts", "clusters") for p in modules(app) if "api" in p.stem]
    assert ROOT / "clusters" / "api_launch.py" in api and ROOT / "contexts" / "pairing_api.py" in api
    assert importing(r"(contexts|clusters)\.views", api) == []
