"""The layers of ARCHITECTURE.md, enforced: who may import whom, where Textual may appear, and
no import circles. A short AST walk (every `import` in a module counts, those inside functions
and under `if TYPE_CHECKING:` too: a lazy import is still a dependency)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "imgtui"

# Each layer and the imgtui layers it may import (itself always, and the `imgtui` package root,
# which holds only the version). The entry points at the top (imgtui/cli.py, __main__.py) are
# wiring and may import anything.
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "terminal": {"common"},
    "service": set(),
    "backends": {"service", "common"},
    "emulator": {"service", "backends", "common"},
    "workflows": {"service", "common", "catalogue"},
    "catalogue": {"service", "common"},
    "commands": {"workflows", "service", "common", "backends", "terminal"},
    "ui": {"workflows", "service", "common", "terminal"},
}
ENTRY_POINTS = {"imgtui", "imgtui.cli", "imgtui.__main__"}
UI_ONLY_PACKAGES = {"textual", "textual_image", "rich"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imported_names(path: Path, name: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) for every import in the module; `from pkg import mod` names
    the submodule when there is one."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield (submodule if submodule in known else target), node.lineno


def import_graph(root: Path) -> dict[str, list[tuple[str, int]]]:
    found = modules(root)
    known = set(found)
    return {name: list(imported_names(path, name, known)) for name, path in found.items()}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "imgtui" else None


def layer_violations(root: Path) -> list[str]:
    problems = []
    for name, imports in import_graph(root).items():
        if name in ENTRY_POINTS:
            continue
        layer = layer_of(name)
        for target, line in imports:
            top = target.split(".")[0]
            where = f"{name}:{line} imports {target}"
            if top in UI_ONLY_PACKAGES and layer != "ui":
                problems.append(f"{where} (Textual and Rich belong to imgtui.ui)")
            if top != "imgtui" or target == "imgtui":
                continue
            other = layer_of(target)
            if layer is None or other is None:
                problems.append(f"{where} (a module outside the layers)")
            elif other != layer and other not in ALLOWED.get(layer, set()):
                problems.append(f"{where} ({layer} may import only {sorted(ALLOWED.get(layer, set()))})")
    return problems


def import_cycles(root: Path) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    graph = {
        name: {t for t, _ in imports if t.startswith("imgtui")}
        for name, imports in import_graph(root).items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_layer_imports_only_what_it_may() -> None:
    assert layer_violations(ROOT) == []


def test_no_module_imports_itself_in_a_circle() -> None:
    assert import_cycles(ROOT) == []


def test_every_module_belongs_to_a_layer() -> None:
    strays = [name for name in modules(ROOT) if name not in ENTRY_POINTS and layer_of(name) not in ALLOWED]
    assert strays == []


# The checker itself must catch what it is for: a synthetic tree with one of each fault.
def write_tree(root: Path, files: dict[str, str]) -> Path:
    package = root / "imgtui"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"service/images.py": "from imgtui.backends.local import LocalBackend\n"}, "imgtui.backends.local"),
        ({"service/images.py": "def f():\n    import imgtui.ui.app\n"}, "imgtui.ui.app"),
        ({"workflows/pager.py": "from textual.app import App\n"}, "Textual"),
        ({"backends/x.py": "from ..ui import app\n", "ui/app.py": ""}, "imgtui.ui.app"),
        (
            {"common/sizes.py": "from imgtui.service import errors\n", "service/errors.py": ""},
            "imgtui.service.errors",
        ),
    ],
)
def test_the_checker_catches_a_bad_import(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    problems = layer_violations(write_tree(tmp_path, files))
    assert len(problems) == 1 and expected in problems[0]


def test_the_checker_catches_a_circle(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "service/__init__.py": "",
            "service/a.py": "from . import b\n",
            "service/b.py": "def later():\n    from imgtui.service.a import thing\n",
            "service/c.py": "from .a import x\n",
        },
    )
    assert import_cycles(root) == [["imgtui.service.a", "imgtui.service.b"]]


def test_the_checker_allows_what_is_allowed(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "ui/app.py": "from textual.app import App\nfrom imgtui.workflows import pager\nfrom imgtui import __version__\n",
            "workflows/pager.py": "from imgtui.service import Images\n",
            "cli.py": "from imgtui.emulator import cli\n",
        },
    )
    assert layer_violations(root) == [] and import_cycles(root) == []
