"""The code's shape beside its speed: the longest function in chalicelib/ and
the most methods on one port (a Protocol a use case is given), read from the
source with `ast`. Data tables are not counted: module-level ones
(jurisdictions, phrases) are not functions, and a function that only returns
one literal (the shipped prompts) is a table built on first use."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "chalicelib"


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(ROOT.rglob("*.py"))]


def function_lengths() -> list[tuple[int, str]]:
    """(lines, where) for every function and method, longest first; a docstring counts as lines."""
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                if _is_table(node):
                    continue
                where = f"{path.relative_to(ROOT.parent)}:{node.name}"
                found.append((node.end_lineno - node.lineno + 1, where))
    return sorted(found, reverse=True)


def _is_table(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Its body, docstring aside, is one `return` of a dict, list or comprehension of literals."""
    body = function.body[1:] if ast.get_docstring(function) else function.body
    literal = (ast.Dict, ast.List, ast.Tuple, ast.DictComp, ast.ListComp)
    return len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, literal)


def port_methods() -> list[tuple[int, str]]:
    """(methods, port) for every Protocol class in chalicelib/, most first (properties aside)."""
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(base).endswith("Protocol") for base in node.bases):
                methods = [f for f in node.body if isinstance(f, ast.FunctionDef) and _is_method(f)]
                found.append((len(methods), f"{path.relative_to(ROOT.parent)}:{node.name}"))
    return sorted(found, reverse=True)


def _is_method(function: ast.FunctionDef) -> bool:
    """Public, and not a property (a property names a repository beside the port: counted on its own)."""
    properties = any(ast.unparse(d) == "property" for d in function.decorator_list)
    return not function.name.startswith("_") and not properties


def run() -> list[tuple[str, float, str]]:
    longest, _ = function_lengths()[0]
    most, _ = port_methods()[0]
    return [("code.longest_function_lines", longest, "lines"), ("code.port_methods_max", most, "methods")]


if __name__ == "__main__":
    for lines, where in function_lengths()[:10]:
        print(f"{lines:4d} {where}")
    for methods, port in port_methods()[:5]:
        print(f"{methods:4d} {port}")
