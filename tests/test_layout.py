"""The folders are the pipeline: config → fetch → parse → decide/dedupe → store → render/web.

Read from the source's own imports (module level and inside functions), so a stage that
reaches past its neighbours fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aggregator"

# stage → the stages it must never import
FORBIDDEN = {
    "parse": {"store", "fetch", "web", "schedule", "alerts", "render"},
    "decide": {"store", "fetch", "web", "schedule", "alerts", "render"},
    "dedupe": {"store", "fetch", "web", "schedule", "alerts", "render", "parse"},
    "text": {"store", "fetch", "web", "schedule", "alerts", "render", "parse", "dedupe"},
    "search": {"store", "fetch", "web", "schedule", "alerts", "render"},
    "render": {"store", "fetch", "web", "schedule", "alerts"},
    "store": {"web", "fetch", "schedule", "alerts", "render", "cli"},
    "web": {"fetch", "schedule", "cli"},
    "config": {"store", "fetch", "web", "schedule", "alerts", "render"},
}


def stage_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imported_stages(path: Path) -> set[str]:
    stages: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "aggregator":
                names = [f"aggregator.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "aggregator" and len(parts) > 1:
                stages.add(parts[1])
    return stages


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_stage_imports_only_the_stages_before_it(path: Path) -> None:
    stage = stage_of(path)
    crossing = imported_stages(path) & FORBIDDEN.get(stage, set())
    assert not crossing, f"{path.relative_to(PACKAGE)} ({stage}) imports {sorted(crossing)}"


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from aggregator.store import Store\n", encoding="utf-8")
    assert imported_stages(module) == {"store"}
