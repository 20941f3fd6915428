"""The package's rooms stay in order: read from the source with ``ast``, every import of aevis
goes down (or stays in its own room), so the package graph has no cycle, and the drawing room
never reaches TensorFlow or Keras (docs/architecture.md draws the same order)."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import aevis

PACKAGE = Path(aevis.__file__).parent

LAYERS = [
    {"aevis", "aevis.errors"},
    {"aevis.memory", "aevis.backend", "aevis.progress", "aevis.quiet"},
    {"aevis._utils"},
    {"aevis.data"},
    {"aevis.model"},
    {"aevis.latent"},
    {"aevis.methods", "aevis.network"},
    {"aevis.faithfulness", "aevis.draw"},
    {"aevis.store", "aevis.config"},
    {"aevis.gallery"},
    {"aevis.site"},
    {"aevis.stages", "aevis.cluster"},
    {"aevis.pipeline"},
    {"aevis.api", "aevis.cli"},
    {"aevis.__main__"},
]
"""The rooms, lowest first: a module may import its own room and the rooms of lower layers only."""
LAYER = {room: number for number, rooms in enumerate(LAYERS) for room in rooms}
MACHINE_LEARNING = {"tensorflow", "keras", "tf_keras", "jax", "torch"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _imports() -> dict[str, set[str]]:
    """Module -> every module it imports (at any depth of its code, lazy imports included)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                imported.add(base)
                # `from aevis import backend` imports the module aevis.backend
                imported |= {f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}")}
        found[name] = imported
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _room(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _aevis_imports(module: str) -> set[str]:
    return {name for name in _imports()[module] if name.split(".")[0] == "aevis" and _is_module(name)}


def test_every_room_has_a_layer():
    assert {_room(module) for module in _imports()} == LAYER.keys()


def test_no_room_imports_a_higher_one():
    upward = [
        f"{module} imports {name}"
        for module in _imports()
        for name in _aevis_imports(module)
        if _room(name) != _room(module) and LAYER[_room(name)] >= LAYER[_room(module)]
    ]
    assert upward == []


def test_the_package_graph_has_no_cycle():
    rooms: dict[str, set[str]] = {}
    for module in _imports():
        rooms.setdefault(_room(module), set()).update(_room(name) for name in _aevis_imports(module))
    state: dict[str, str] = {}

    def visit(room: str, path: list[str]) -> None:
        state[room] = "open"
        for other in sorted(rooms[room] - {room}):
            assert state.get(other) != "open", f"cycle: {' -> '.join([*path, room, other])}"
            if other not in state:
                visit(other, [*path, room])
        state[room] = "done"

    for room in sorted(rooms):
        if room not in state:
            visit(room, [])


def _reached(start: set[str]) -> set[str]:
    """The aevis modules ``start`` imports, directly or through others (and their packages)."""
    seen, todo = set(), list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:depth]) for depth in range(1, len(parts))]  # a package runs its __init__
        todo += sorted(_aevis_imports(module))
    return seen


def test_the_drawing_room_and_the_plumbing_never_reach_tensorflow_or_keras():
    start = {module for module in _imports() if _room(module) in ("aevis.draw", "aevis._utils")}
    reached = _reached(start)
    assert "aevis.backend" not in reached
    heavy = {module: _imports()[module] & MACHINE_LEARNING for module in reached}
    assert {module: names for module, names in heavy.items() if names} == {}


def test_importing_the_drawing_room_loads_no_tensorflow_or_keras():
    modules = sorted(module for module in _imports() if _room(module) == "aevis.draw")
    code = f"import sys; import {', '.join(modules)}; print(sorted(set(sys.modules) & {MACHINE_LEARNING!r}))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    ).stdout
    assert loaded.strip() == "[]"
