"""The package map holds: imports point down the layers, no cycle between packages, modules stay
readable (under ~500 lines or a stated reason), no function is long (the orchestration, and every
step, reads as a recipe of named steps).

Every ``import`` in ``archiver/**/*.py`` counts, wherever it is: at module level, inside a
function (the lazy imports that keep start-up cheap) or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "archiver"

#: the layers, lowest first: a module may import its own layer or a lower one, never a higher one
LAYERS: list[set[str]] = [
    {"support", "errors"},  # errors: the exception tree, importing nothing from the package
    # options: each stage's few settings, built from config's table; reportmodel: report.json as typed data
    {"models", "config", "options", "reportmodel"},
    {"timeline"},
    {"history"},
    {"liveness"},
    {"snapshots"},
    {"store"},  # the evidence store: the runs' WARC files pushed, pending and read back (issue 21)
    {"wayback"},
    {"archives"},  # the other archives (Memento): after the Wayback stage, using its rescue rules
    {"relocate"},  # moved, not gone: a dead link's new address, from archived redirects, patterns, sitemaps
    {"audit"},
    {"report"},
    {"pipeline"},
    {"cli"},
]
LAYER = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}

MAX_LINES = 500
#: modules allowed over MAX_LINES, with the reason (each module's docstring says it too)
LONG_MODULES: dict[str, str] = {
    "timeline/load.py": "the YAML line loader, per-file parsing and the forked parallel parse share the file model",
    "liveness/transport.py": "the guarded backend, the bounded decoder and the client are one HTTP stack",
}

#: code reads as a recipe of named steps: no function in archiver/ over this many lines (issue 20;
#: ruff's C901 with max-complexity 15 keeps them simple too)
MAX_FUNCTION_LINES = 60


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted module name, path) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports(name: str, path: Path) -> set[str]:
    """The archiver modules (or packages) ``name`` imports, relative imports resolved."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import policy` names a module; `from . import __version__` a name of the package
            found.update(f"{module}.{alias.name}" if _is_module(f"{module}.{alias.name}") else module
                         for alias in node.names)
    return {m for m in found if m == "archiver" or m.startswith("archiver.")}


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def component(module: str) -> str | None:
    """The layer component of a module: ``archiver.wayback.stage`` -> ``wayback``; None for the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def import_graph() -> dict[str, set[str]]:
    return {name: imports(name, path) for name, path in modules()}


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = sorted(name for name, _ in modules() if name != "archiver" and component(name) not in LAYER)
    assert not unplaced, f"modules outside the package map (add them to a stage package): {unplaced}"


def test_imports_point_down_the_layers() -> None:
    upward = []
    for name, targets in import_graph().items():
        source = component(name)
        if source is None:  # the package root: the public API, whose names are imported lazily
            continue
        for target in sorted(targets):
            part = component(target)
            if part is None:  # `from archiver import __version__`
                continue
            if LAYER[part] > LAYER[source]:
                upward.append(f"{name} -> {target}")
    assert not upward, "imports to a higher layer:\n" + "\n".join(upward)


def test_no_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for name, targets in import_graph().items():
        source = component(name)
        if source is None:
            continue
        for target in targets:
            part = component(target)
            if part is not None and part != source:
                edges.setdefault(source, set()).add(part)
    cycle = _find_cycle(edges)
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_modules_stay_under_the_size_limit() -> None:
    long = {}
    for _, path in modules():
        lines = len(path.read_text("utf-8").splitlines())
        if lines > MAX_LINES:
            long[path.relative_to(PACKAGE).as_posix()] = lines
    unexplained = {m: n for m, n in long.items() if m not in LONG_MODULES}
    assert not unexplained, f"modules over {MAX_LINES} lines (split them, or list them with a reason): {unexplained}"
    stale = sorted(m for m in LONG_MODULES if m not in long)
    assert not stale, f"remove from LONG_MODULES (now under {MAX_LINES} lines): {stale}"


def long_functions(source: str, label: str) -> list[str]:
    """The functions (methods and nested functions too) of ``source`` over MAX_FUNCTION_LINES lines."""
    long = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                long.append(f"{label}:{node.lineno} {node.name} ({length} lines)")
    return long


def test_no_function_is_long() -> None:
    long = [found for _, path in modules()
            for found in long_functions(path.read_text("utf-8"), path.relative_to(PACKAGE).as_posix())]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them into named steps): {long}"


def test_the_long_function_finder_finds_one() -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))  # 60 lines with the def
    source = f"class C:\n    async def fits(self):\n{body}\n    def long(self):\n{body}        x = 0\n"
    line = 2 + MAX_FUNCTION_LINES + 1
    assert long_functions(source, "m.py") == [f"m.py:{line} long ({MAX_FUNCTION_LINES + 1} lines)"]


def test_relative_imports_resolve_to_real_modules() -> None:
    """The walk itself: every archiver import it finds names a module or package that exists."""
    known = {name for name, _ in modules()}
    missing = set()
    for name, targets in import_graph().items():
        for target in targets:
            if target not in known and target.rsplit(".", 1)[0] not in known:
                missing.add(f"{name} -> {target}")
    assert not missing, sorted(missing)


def test_the_docs_package_map_lists_every_module() -> None:
    """The Architecture page's tree (docs/architecture.md) names each module of the package, and only real ones."""
    readme = (PACKAGE.parent / "docs" / "architecture.md").read_text("utf-8")
    start = readme.index("# Architecture")
    block = readme[readme.index("```text", start):readme.index("```\n", readme.index("```text", start) + 7)]
    listed, package = set(), None
    for line in block.splitlines():
        if m := re.match(r"  (\w+)/\s", line):
            package = m.group(1)
        elif (m := re.match(r"    (\w+\.py)\s", line)) and package:
            listed.add(f"{package}/{m.group(1)}")
        elif m := re.match(r"  (\w+\.py)\s", line):
            listed.add(m.group(1))
            package = None
    actual = {path.relative_to(PACKAGE).as_posix() for _, path in modules() if path.name != "__init__.py"}
    actual.add("__init__.py")  # the public API, listed at the top
    assert sorted(actual - listed) == [], "modules missing from the docs' package map"
    assert sorted(listed - actual) == [], "the docs' package map names modules that do not exist"


#: the stage packages: each takes its own options object (archiver/options.py), never the whole settings
STAGE_PACKAGES = ("timeline", "history", "liveness", "snapshots", "wayback", "archives", "relocate", "audit",
                  "report", "store")
#: stage modules still importing archiver.config, with the reason (none today)
CONFIG_IMPORTERS: dict[str, str] = {}


def test_no_stage_package_imports_the_settings() -> None:
    """Issue 20: only the pipeline and the command line read ``Settings`` and build each stage's options."""
    found = sorted(name for name, targets in import_graph().items()
                   if component(name) in STAGE_PACKAGES and any(t == "archiver.config" for t in targets))
    assert [m for m in found if m not in CONFIG_IMPORTERS] == [], "stage modules importing archiver.config"
    assert sorted(CONFIG_IMPORTERS) == [m for m in found if m in CONFIG_IMPORTERS], "stale CONFIG_IMPORTERS entries"


_MUTATORS = {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove", "discard",
             "clear"}


def module_state_mutations(source: str) -> list[str]:
    """``global`` statements, and module-level names mutated in place (a method that changes a dict, list or set,
    or an item or attribute assigned), in ``source``."""
    tree = ast.parse(source)
    names = {t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.extend(f"{node.lineno}: global {name}" for name in node.names)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS
              and isinstance(node.func.value, ast.Name) and node.func.value.id in names):
            found.append(f"{node.lineno}: {node.func.value.id}.{node.func.attr}()")
        elif isinstance(node, ast.Assign | ast.AugAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if (isinstance(target, ast.Subscript | ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in names):
                    found.append(f"{node.lineno}: {target.value.id} changed")
    return found


def test_no_module_level_state_is_mutated() -> None:
    """Issue 20: no module keeps state of its own (limiters, caches, flags) that calls change; such state is passed
    in (the night's ArchiveLimiter) or kept by what owns it. Memoized pure functions (``lru_cache``) are fine."""
    found = [f"{path.relative_to(PACKAGE).as_posix()}:{hit}" for _, path in modules()
             for hit in module_state_mutations(path.read_text("utf-8"))]
    assert not found, f"module-level state changed at run time: {found}"


def test_the_state_finder_finds_a_mutation() -> None:
    source = "CACHE = {}\nFLAG = False\ndef f(k):\n    global FLAG\n    CACHE[k] = 1\n    CACHE.update(a=1)\n"
    assert module_state_mutations(source) == ["4: global FLAG", "5: CACHE changed", "6: CACHE.update()"]
