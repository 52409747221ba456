"""Write docs/api.md: the API reference of ``cluster`` and ``nodes``, from their docstrings.

Usage: ``.venv/bin/python scripts/apidoc.py [--check]``. ``--check`` exits 1 when the file is
out of date (the test suite runs it), so the reference never drifts from the code.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api.md"
PACKAGES = ("cluster", "nodes", "client")
SKIP = {
    "cluster.__main__", "cluster.ops.__main__", "nodes.__main__", "cluster.ops.demo",
    "cluster.ops.chaos", "cluster.ops.fuzz", "client.tui",
}


def first_paragraph(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"


def modules() -> list[str]:
    names = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
            if info.name not in SKIP and ".smalltalk." not in info.name + ".":
                names.append(info.name)
    names.append("nodes.smalltalk")
    return sorted(set(names))


def render() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `scripts/apidoc.py`; do not edit by hand",
        "(`scripts/test` checks that it is current). The Smalltalk evaluator's internals are",
        "described in [smalltalk.md](smalltalk.md); its public API is `nodes.smalltalk` below.",
        "",
    ]
    for name in modules():
        module = importlib.import_module(name)
        lines += [f"## `{name}`", ""]
        summary = inspect.getdoc(module)
        if summary:
            lines += [summary, ""]
        public = getattr(module, "__all__", None)
        for attr, obj in sorted(vars(module).items()):
            if attr.startswith("_") or (public is not None and attr not in public):
                continue
            if getattr(obj, "__module__", None) != name and public is None:
                continue
            if inspect.isclass(obj):
                lines.append(f"- **class `{attr}`** — {first_paragraph(obj)}")
                for meth_name, meth in sorted(vars(obj).items()):
                    if meth_name.startswith("_") or not callable(meth):
                        continue
                    if not (inspect.getdoc(meth) or "").strip():
                        continue
                    lines.append(
                        f"  - `{meth_name}{signature(meth)}` — {first_paragraph(meth)}"
                    )
            elif inspect.isfunction(obj) and inspect.getdoc(obj):
                lines.append(f"- `{attr}{signature(obj)}` — {first_paragraph(obj)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--check", action="store_true", help="fail if docs/api.md is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/api.md is out of date: run .venv/bin/python scripts/apidoc.py",
                  file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
