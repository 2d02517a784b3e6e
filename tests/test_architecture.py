"""The code stays findable: no service module over about 400 lines (tables and migrations
aside), no function over about 60 without a comment saying why (``# long: …`` above it),
one audit_log table definition and one audit wrapper (shared/audit.py)."""

import ast
from pathlib import Path

from tests.conftest import ROOT

SERVICES = ROOT / "services"
MODULE_LINES = 400
FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(SERVICES.rglob("*.py"))
        if "migrations" not in path.parts and "models" not in path.parts
    ]


def test_no_service_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
    }
    assert long == {}


def _long_functions(path: Path) -> dict[str, int]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = {}
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        reason = lines[start - 2].strip() if start >= 2 else ""
        if length > FUNCTION_LINES and not reason.startswith("# long:"):
            found[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = length
    return found


def test_no_function_is_over_60_lines_without_a_reason() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        long |= _long_functions(path)
    assert long == {}


def test_the_audit_table_is_defined_once() -> None:
    definitions = [
        str(path.relative_to(ROOT))
        for path in sorted(SERVICES.rglob("*.py"))
        if "migrations" not in path.parts
        and '__tablename__ = "audit_log"' in path.read_text(encoding="utf-8")
        and "AuditLogColumns" not in path.read_text(encoding="utf-8")
    ]
    assert definitions == []
