"""The rooms of the code base are where docs/architecture.md says, and they keep their shape (issue #15)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analyzers", "engine", "index", "store", "rules", "notify", "indexer", "app")
PRODUCT_MODULES = sorted(
    [path for package in PACKAGES for path in (ROOT / package).glob("*.py") if path.name != "__init__.py"]
    + [ROOT / "settings.py"]
)
LARGEST_MODULE_LINES = 400
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
NAMED = set(re.findall(r"`([a-z_]+(?:/[a-z_]+)*\.py)`", ARCHITECTURE))


def imported_packages(path):
    """The top-level names a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def package_of(path):
    relative = path.relative_to(ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_every_module_the_architecture_names_exists():
    assert sorted(name for name in NAMED if not (ROOT / name).is_file()) == []


def test_the_architecture_names_every_module_of_the_product():
    missing = [str(path.relative_to(ROOT)) for path in PRODUCT_MODULES]
    assert sorted(name for name in missing if name not in NAMED) == []


@pytest.mark.parametrize("path", PRODUCT_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_is_longer_than_400_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= LARGEST_MODULE_LINES


def test_packages_import_each_other_in_one_direction_only():
    ours = set(PACKAGES) | {"settings"}
    edges = {}
    for path in PRODUCT_MODULES:
        package = package_of(path)
        edges.setdefault(package, set()).update((imported_packages(path) & ours) - {package})
    cycles = []
    for start in edges:
        seen, stack = set(), [(start, (start,))]
        while stack:
            package, trail = stack.pop()
            for after in edges.get(package, ()):
                if after == start:
                    cycles.append(" -> ".join((*trail, start)))
                elif after not in seen:
                    seen.add(after)
                    stack.append((after, (*trail, after)))
    assert cycles == []


@pytest.mark.parametrize("package", ["analyzers", "engine", "index", "store", "rules", "notify", "indexer"])
def test_only_the_web_layer_imports_flask(package):
    importing = [path.name for path in (ROOT / package).glob("*.py") if "flask" in imported_packages(path)]
    assert importing == []
