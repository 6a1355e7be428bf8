"""AGENTS.md's layer table is the truth about ``linkdash/``: every module is in it, every
module in it exists, and no module imports one it may not (a higher layer, or one its
layer's "may import" does not allow). Imports are read from the source (``ast``), those
inside functions too; only ``linkdash``'s own modules are checked. Streamlit is imported
by the UI layer's ``linkdash`` package (``ui/``) only."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "linkdash"
# the package's own files that are no module of the table: the package marker (it holds
# the version and imports nothing of linkdash: asserted below)
NOT_IN_TABLE = {"__init__.py"}


@dataclass(frozen=True)
class Layer:
    rank: int
    name: str
    units: tuple[str, ...]  # linkdash units: "importer.py" (a module) or "rules/" (a package)
    outside: tuple[str, ...]  # listed files outside linkdash/ (app.py, pages/*.py)
    may_import: str


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def read_table(text: str) -> list[Layer]:
    """The rows of the "| layer | modules | may import |" table, in order."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("|") and _cells(line)[:3] == ["layer", "modules", "may import"])
    layers = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        name, modules, may = _cells(line)
        units, outside = [], []
        # a module is a backticked file (``x.py``, ``pages/*.py``) or package (``rules/``);
        # other backticked words (functions, data files) describe it
        for tok in re.findall(r"`([^`]+)`", modules):
            if not re.fullmatch(r"[\w*/]+(\.py|/)", tok):
                continue
            if (PKG / tok).exists():
                units.append(tok)
            else:
                outside.append(tok)
        layers.append(Layer(len(layers), name, tuple(units), tuple(outside), may))
    return layers


LAYERS = read_table((ROOT / "AGENTS.md").read_text())
LAYER_OF = {u: layer for layer in LAYERS for u in layer.units}


def _allowed(layer: Layer) -> set[str]:
    """The layers ``layer`` may import: its own, the ones its "may import" names, and what
    those may import in turn; "all above" = every earlier layer, "everything" = every
    other layer, "everything but X" = every other layer but X. Words that name no layer
    (stdlib, numpy, pycountry) are the libraries it uses: not checked here."""
    names = {x.name for x in LAYERS}
    may = layer.may_import.lower()
    if may.startswith("everything"):
        but = {w.strip() for w in may.split(" but ", 1)[1].split(",")} if " but " in may else set()
        return {n for n in names if n.lower() not in but}
    out = {layer.name}
    if "all above" in may:
        out |= {x.name for x in LAYERS[:layer.rank]}
    for word in (w.strip() for w in may.split(",")):
        for other in LAYERS[:layer.rank]:  # only earlier layers: no loops
            if other.name.lower() == word:
                out |= _allowed(other)
    return out


def _unit_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return f"{rel.parts[0]}/" if len(rel.parts) > 1 else rel.parts[0]


def _unit_of_module(dotted: str) -> str | None:
    """``linkdash.rules.sheet`` -> ``rules/``; ``linkdash.importer`` -> ``importer.py``; None
    for a name that is no module of linkdash (an attribute of the package)."""
    parts = dotted.split(".")
    if parts[0] != "linkdash" or len(parts) < 2:
        return None
    if (PKG / parts[1]).is_dir():
        return f"{parts[1]}/"
    if (PKG / f"{parts[1]}.py").exists():
        return f"{parts[1]}.py"
    return None


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the file, at any depth (in functions, under
    ``if TYPE_CHECKING``), relative ones made absolute. ``from m import x`` gives ``m``
    and ``m.x`` (``from linkdash import store`` imports ``linkdash.store``)."""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])  # __init__: itself
    out = []
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            out += [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return out


SOURCES = sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_table_is_read():
    assert [x.name for x in LAYERS][:2] == ["contract", "keys"] and LAYERS[-1].name == "CLI"
    assert "catalogue.py" in LAYER_OF and "rules/" in LAYER_OF and "cli.py" in LAYER_OF
    assert "pages/*.py" in next(x for x in LAYERS if x.name == "UI").outside
    assert len(LAYER_OF) == sum(len(x.units) for x in LAYERS), "a module listed in two layers"


def test_every_module_is_in_the_table():
    missing = sorted({_unit_of(p) for p in SOURCES} - set(LAYER_OF) - NOT_IN_TABLE)
    assert not missing, f"modules of linkdash/ that AGENTS.md's layer table does not list: {missing}"


def test_every_module_in_the_table_exists():
    gone = [tok for layer in LAYERS for tok in layer.outside
            if not (list(ROOT.glob(tok)) if "*" in tok else (ROOT / tok).exists())]
    assert not gone, f"AGENTS.md's layer table lists files that do not exist: {gone}"


LONG = 500  # lines: a longer module is one concept, named in AGENTS.md, or is split


def test_every_long_module_is_named_with_its_one_concept():
    text = (ROOT / "AGENTS.md").read_text()
    section = text.split("## Modules over 500 lines", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([\w/]+\.py)`(?::| \()", section))  # "`x.py`: its concept" or "`x.py` (..."
    long = {str(p.relative_to(PKG)) for p in SOURCES if len(p.read_text().splitlines()) > LONG}
    assert not long - named, f"over {LONG} lines and not named in AGENTS.md: {sorted(long - named)}"
    assert not {n for n in named if not (PKG / n).exists()}, "AGENTS.md names a module that is gone"


def test_the_package_marker_imports_nothing_of_linkdash():
    assert not [m for _, m in imports(PKG / "__init__.py") if m.startswith("linkdash")]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_imports_a_layer_it_may_not(path):
    unit = _unit_of(path)
    if unit in NOT_IN_TABLE:
        return
    layer = LAYER_OF.get(unit)
    assert layer, f"{unit} is in no layer of AGENTS.md's table"
    allowed = _allowed(layer)
    wrong: list[str] = []
    for line, target in sorted({(line, _unit_of_module(m)) for line, m in imports(path)}, key=str):
        if target is None or target == unit:
            continue
        module = target.removesuffix(".py").removesuffix("/")
        other = LAYER_OF.get(target)
        if other is None:
            wrong.append(f"line {line}: {module} is in no layer")
        elif other.rank > layer.rank:
            wrong.append(f"line {line}: {module} ({other.name}) is a higher layer than {layer.name}")
        elif other.name not in allowed:
            wrong.append(f"line {line}: {module} ({other.name}) is not in what {layer.name} may import "
                         f"({layer.may_import})")
    assert not wrong, f"{path.relative_to(ROOT)}: " + "; ".join(wrong)


def test_only_the_ui_module_imports_streamlit():
    ui = {u for u in LAYER_OF if LAYER_OF[u].name == "UI"}
    assert ui == {"ui/"}
    importers = sorted(str(p.relative_to(ROOT)) for p in SOURCES
                       if any(m == "streamlit" or m.startswith("streamlit.") for _, m in imports(p)))
    assert importers and all(_unit_of(ROOT / p) in ui for p in importers), importers


# --- the reading itself, on made-up sources, so a broken reader cannot pass everything ---

def test_imports_are_found_at_any_depth_and_made_absolute():
    src = ("from __future__ import annotations\nimport numpy as np\n"
           "def f():\n    from linkdash import store, quarters\n    import linkdash.story\n"
           "    if True:\n        from .sheet import Context\n    from .. import deck\n")
    got = {m for _, m in imports(PKG / "rules" / "x.py", src)}  # the path is never read
    assert {"numpy", "linkdash.store", "linkdash.quarters", "linkdash.story", "linkdash.rules.sheet",
            "linkdash.deck"} <= got
    assert {_unit_of_module(m) for m in got} == {None, "store/", "quarters.py", "story.py", "rules/",
                                                 "deck.py"}
    assert {m for _, m in imports(PKG / "rules" / "__init__.py", "from .cells import x")} \
        == {"linkdash.rules.cells", "linkdash.rules.cells.x"}


def test_an_upward_or_sideways_import_is_caught():
    reading, storage = LAYER_OF["importer.py"], LAYER_OF["store/"]
    assert storage.rank > reading.rank and storage.name not in _allowed(reading)
    figures, cli = LAYER_OF["figures.py"], LAYER_OF["cli.py"]
    assert figures.name in _allowed(cli) and "UI" not in _allowed(cli)
    assert LAYER_OF["store/"].name not in _allowed(LAYER_OF["figures.py"])
