"""The layout's rules, read from the imports of the code (issue #10): each rule is a few lines.

Every ``.py`` file of the packages and ``main.py`` is parsed (not imported); an import counts
wherever it is written (inside a function, under ``TYPE_CHECKING``). A failure names the
offending ``file:line``.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = frozenset({"assistant", "bankfiles", "bot", "mailbox", "staff", "store", "web"})
SQLITE = frozenset({"sqlite3", "aiosqlite", "psycopg", "psycopg_pool"})  # the drivers


@dataclass(frozen=True)
class Import:
    """One imported module, where it is imported."""

    path: Path  # relative to the project's root
    line: int
    module: str  # the dotted name, e.g. ``store.db`` or ``sqlite3``

    @property
    def package(self) -> str:
        """The project package the importing file belongs to (``main`` for main.py)."""
        return self.path.parts[0] if len(self.path.parts) > 1 else self.path.stem

    @property
    def top(self) -> str:
        """The imported module's top-level name."""
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


@functools.cache
def project_imports() -> tuple[Import, ...]:
    """Every import of the project's code (tests and bench aside)."""
    files = [
        ROOT / "main.py",
        *(p for name in sorted(PACKAGES) for p in (ROOT / name).rglob("*.py")),
    ]
    found = []
    for path in files:
        relative = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(relative, node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                found.append(Import(relative, node.lineno, _absolute(relative, node)))
    assert len(files) > 20 and found, "the walk found no code: is ROOT right?"
    return tuple(found)


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module of ``from ... import``, a relative one resolved against the file's package."""
    if not node.level:
        return node.module or ""
    base = list(path.parent.parts)[: len(path.parent.parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_outside(modules: frozenset[str], allowed: frozenset[str]) -> list[str]:
    """Where one of ``modules`` (top-level names) is imported outside the ``allowed`` packages."""
    return [str(i) for i in project_imports() if i.top in modules and i.package not in allowed]


def test_store_imports_no_project_package() -> None:
    """Rule 1: ``store/`` leans on nothing of the project; any package may import it."""
    others = PACKAGES - {"store"}
    offending = [str(i) for i in project_imports() if i.package == "store" and i.top in others]
    assert not offending, "\n".join(offending)


def test_sqlite_only_in_store() -> None:
    """Rule 2: the database driver is the store's business; others ask it for units of work."""
    offending = imported_outside(SQLITE, allowed=frozenset({"store"}))
    assert not offending, "\n".join(offending)


def test_channel_libraries_only_in_their_channel() -> None:
    """Rule 3: ``telegram`` only in bot/; ``imap_tools``, ``aiosmtplib`` only in mailbox/."""
    offending = imported_outside(frozenset({"telegram"}), allowed=frozenset({"bot"}))
    offending += imported_outside(
        frozenset({"imap_tools", "aiosmtplib"}), allowed=frozenset({"mailbox"})
    )
    assert not offending, "\n".join(offending)


# Which project packages each package may import (main.py may import them all).
MAY_IMPORT = {
    "store": frozenset(),
    "assistant": frozenset({"store"}),
    "bankfiles": frozenset({"assistant", "store"}),
    "bot": frozenset({"assistant", "store"}),
    "mailbox": frozenset({"assistant", "store"}),
    "staff": frozenset({"assistant", "bankfiles", "mailbox", "store"}),
    # staff/accounts.py is shared with the CLI; mailbox/inbound/attachments.py reads attachments
    "web": frozenset({"assistant", "mailbox", "staff", "store"}),
}


def test_imports_follow_the_layout() -> None:
    """The arrows of the README's Layout: the core never imports a channel or a tool around it."""
    offending = [
        str(i)
        for i in project_imports()
        if i.package in MAY_IMPORT
        and i.top in PACKAGES - {i.package}
        and i.top not in MAY_IMPORT[i.package]
    ]
    assert not offending, "\n".join(offending)


def test_the_store_is_opened_only_by_the_composition_root() -> None:
    """Rule 4: ``Store.open`` is called in ``main.py`` alone; commands receive the store."""
    offending = []
    for path in [ROOT / "main.py", *(p for n in PACKAGES for p in (ROOT / n).rglob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "open"
                and isinstance(node.value, ast.Name)
                and node.value.id in {"Store", "Database"}
                and path.name != "main.py"
                and path.parent.name != "store"
            ):
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offending, "\n".join(offending)


def test_the_registry_is_a_value_built_by_the_loader() -> None:
    """Rule 4: no import-time registry; each load builds its own, with every flow's routes."""
    from assistant.dialogs import registry

    first, second = registry.load_flows(), registry.load_flows()
    assert first is not second and first.commands is not second.commands
    assert set(first.commands) == set(second.commands) and "registrazione" in first.commands
    globals_ = [name for name, v in vars(registry).items() if isinstance(v, registry.Registry)]
    assert not globals_
