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
