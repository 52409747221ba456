"""Which package may import which: the dependency direction is part of the design.

- The core of ``cluster`` (everything but ``cluster.ops`` and ``cluster.__main__``) imports
  neither ``nodes`` nor ``client`` nor ``cluster.ops``: a node or a tool builds on the core,
  never the other way round.
- ``nodes`` imports nothing of ``cluster.ops`` or ``client`` (a node is not an operator tool).
- The evaluator (``nodes/smalltalk``) is a library: it imports neither Trio nor coredis nor
  anything outside ``nodes.smalltalk``.

Checked twice: statically (every import statement, followed transitively inside the
repository) and at run time (a fresh interpreter imports the modules and lists what got
loaded), so a lazy import inside a function is caught as well as a top-level one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cluster", "nodes", "client")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Every module named by an import statement anywhere in the file (absolute names)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            named.add(module)
            named.update(f"{module}.{alias.name}" for alias in node.names)
    return named


def closure(start: set[str], modules: dict[str, Path]) -> set[str]:
    """Every module reachable by imports from ``start`` (inside the repository, plus the
    outside modules they name)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in modules:
            todo.extend(imports_of(name, modules[name]))
    return seen


def core_modules(modules: dict[str, Path]) -> set[str]:
    return {
        name for name in modules
        if name.split(".")[0] == "cluster"
        and not name.startswith("cluster.ops")
        and name != "cluster.__main__"
    }


def _top(names: set[str], *roots: str) -> set[str]:
    return {n for n in names if n.split(".")[0] in roots or n.startswith(roots)}


def test_the_core_imports_neither_nodes_nor_client_nor_the_tools():
    modules = all_modules()
    core = core_modules(modules)
    assert {"cluster.store", "cluster.tokens", "cluster.settings", "cluster.keys"} <= core
    reached = closure(core, modules)
    assert not _top(reached, "nodes", "client"), sorted(_top(reached, "nodes", "client"))
    assert not {n for n in reached if n.startswith("cluster.ops")}


def test_nodes_import_no_operator_tool_and_no_client():
    modules = all_modules()
    nodes = {name for name in modules if name.split(".")[0] == "nodes"}
    reached = closure(nodes, modules)
    bad = {n for n in reached if n.startswith(("cluster.ops", "client"))}
    assert not bad, sorted(bad)


def test_the_evaluator_is_a_library():
    modules = all_modules()
    evaluator = {name for name in modules if name.startswith("nodes.smalltalk")}
    assert "nodes.smalltalk.runtime" in evaluator
    for name in evaluator:
        for imported in imports_of(name, modules[name]):
            root = imported.split(".")[0]
            assert root not in ("trio", "coredis", "cluster", "client", "trio_websocket"), (
                name, imported)
            if root == "nodes":
                assert imported.startswith("nodes.smalltalk"), (name, imported)


def test_at_run_time_too():
    """A fresh interpreter: import the core (and separately the evaluator) and list what
    got loaded."""
    probe = (
        "import importlib, json, sys\n"
        "for name in sys.argv[1:]: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    modules = all_modules()
    core = sorted(core_modules(modules))
    loaded = json.loads(subprocess.run(
        [sys.executable, "-c", probe, *core], capture_output=True, text=True, check=True,
        cwd=ROOT).stdout)
    assert not [m for m in loaded if m.split(".")[0] in ("nodes", "client")]
    assert not [m for m in loaded if m.startswith("cluster.ops")]
    evaluator = json.loads(subprocess.run(
        [sys.executable, "-c", probe, "nodes.smalltalk"], capture_output=True, text=True,
        check=True, cwd=ROOT).stdout)
    assert "nodes.smalltalk" in evaluator
    assert not [m for m in evaluator if m.split(".")[0] in ("trio", "coredis", "client")]
