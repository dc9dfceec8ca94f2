"""The domain imports only the standard library and itself (import-linter checks the layers too)."""

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "churn"


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_churn_imports_only_the_standard_library_and_itself():
    allowed = set(sys.stdlib_module_names) | {"churn", "__future__"}
    offenders = {
        str(path.relative_to(CORE.parent)): sorted(imported_roots(path) - allowed) for path in CORE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10


def test_every_adapter_module_is_held_by_an_import_linter_contract():
    """A new adapter cannot slip past the independence rules: each top-level module or package of
    adapters/ is named in .importlinter (as an independent adapter or as a stand-alone toolkit)."""
    import configparser

    root = CORE.parent
    config = configparser.ConfigParser()
    config.read(root / ".importlinter")
    named = set()
    for section in config.sections():
        for key in ("modules", "source_modules"):
            named |= set(config[section].get(key, "").split())
    adapters = {
        f"adapters.{path.stem if path.is_file() else path.name}"
        for path in (root / "adapters").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").is_file()
    }
    assert adapters - named == set()
    assert len(adapters) > 10
