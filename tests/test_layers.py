"""Imports run one way (docs/architecture.md, "Layers").

    stack/                                   top: the CLI, training, the supervisor; may import everything
    actions/  channels/  console/  tickets/  one process each; import bot/ and themselves, not each other
    bot/                                     foundation: settings, shared facts and adapters; imports none of them

Test support: tests/ may import anything; fakes/ (fake outside servers) is imported by tests/ and bench/ only;
bench/ may import the product and fakes/, never tests/. No product package imports tests/, fakes/ or bench/.

Every module's AST is read (imports inside functions count too), so the test needs nothing installed.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCT = {"bot", "actions", "channels", "console", "tickets", "stack"}
TEST_SUPPORT = {"tests", "fakes", "bench"}
PACKAGES = PRODUCT | TEST_SUPPORT
PROCESSES = {"actions", "channels", "console", "tickets"}

# package -> the other first-party packages it may import (its own is always allowed)
ALLOWED: Dict[str, Set[str]] = {
    "bot": set(),
    **{process: {"bot"} for process in PROCESSES},
    "stack": PRODUCT,
    "fakes": PRODUCT,
    "bench": PRODUCT | {"fakes"},
    "tests": PACKAGES,
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, root: Path) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.lineno, node.module or ""


def _sources(root: Path) -> List[Path]:
    return sorted(path for package in PACKAGES if (root / package).is_dir() for path in (root / package).rglob("*.py"))


def wrong_way_imports(root: Path = ROOT) -> List[str]:
    """'file:line imports module (package/ may import: ...)' for each import against the layers."""
    found = []
    for path in _sources(root):
        package = path.relative_to(root).parts[0]
        for line, name in _imported(path, root):
            target = name.split(".")[0]
            if target in PACKAGES and target != package and target not in ALLOWED[package]:
                allowed = ", ".join(sorted(ALLOWED[package])) or "no other first-party package"
                found.append(f"{path.relative_to(root)}:{line} imports {name} ({package}/ may import: {allowed})")
    return found


def test_imports_run_one_way():
    assert wrong_way_imports() == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from actions.common import button\n", "actions.common"),
        ("def later():\n    import console.app\n", "console.app"),
        ("import channels.wechat as wechat\n", "channels.wechat"),
    ],
)
def test_the_check_sees_every_kind_of_import(tmp_path, source, expected):
    """A wrong-way import at the top, inside a function or under another name is reported."""
    module = tmp_path / "bot" / "kb" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("from . import text\nfrom bot.settings import load\n" + source, encoding="utf-8")
    problems = wrong_way_imports(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("bot/kb/probe.py:") and f" imports {expected} (" in problems[0]
