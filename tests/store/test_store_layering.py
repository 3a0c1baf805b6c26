"""The store sits on top: vision, zones, overlays and the frame chain never import it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW = ["vision", "zones", "overlays", "pipeline.py", "live.py"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_below_the_store_imports_it() -> None:
    files = [
        p for name in BELOW for p in ([ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py"))
    ]
    assert len(files) > 20
    offenders = [
        str(p.relative_to(ROOT)) for p in files if p.exists() and {"store", "sqlalchemy"} & _imports(p)
    ]
    assert offenders == []
