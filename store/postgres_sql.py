"""The repositories' SQLite-flavoured SQL, as PostgreSQL (through psycopg) wants it. Pure text.

The units of work in ``store/`` are written once, for SQLite's ``sqlite3``; on PostgreSQL each
statement goes through ``translate`` first (cached per SQL string), which changes only what is
mechanical and has one meaning in both dialects:

- parameters: ``?`` becomes ``%s``; numbered ``?1 ?2`` become positional ``%s`` with the
  parameters reordered (and repeated) to match (``Translated.order``); a literal ``%`` becomes
  ``%%`` (psycopg reads ``%`` everywhere in the text, quoted or not);
- ``LIKE`` becomes ``ILIKE``: SQLite's LIKE ignores the case of ASCII letters;
- ``a IS b`` / ``a IS NOT b`` between values become ``IS [NOT] DISTINCT FROM`` (``IS [NOT]
  NULL``, ``TRUE``, ``FALSE`` stay);
- the ``main.`` schema prefix (SQLite's name of the database itself) is dropped;
- ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``;
- an ``INSERT INTO <table>`` of a table with an ``id`` column and no ``RETURNING`` gets
  ``RETURNING id``, so the cursor's ``lastrowid`` means what sqlite3's does.

Quoted literals, quoted names and comments are left as they are (but for ``%``). What differs
beyond this (functions, types, ``json_each``) is written per dialect in the repository or in
``store/migrations/postgresql/``. ``split_statements`` cuts a migration file into statements,
``$$`` bodies included; ``lock_key`` names an advisory lock by a stable 64-bit number;
``public_url`` hides a URL's password.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

_WORD_RULES = (
    (re.compile(r"(?<![\w.])(NOT\s+)?LIKE\b", re.IGNORECASE), r"\1ILIKE"),
    (
        re.compile(r"\bIS\s+NOT\s+(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b)", re.IGNORECASE),
        "IS DISTINCT FROM ",
    ),
    (
        re.compile(r"\bIS\s+(?!NOT\b|NULL\b|TRUE\b|FALSE\b|DISTINCT\b)", re.IGNORECASE),
        "IS NOT DISTINCT FROM ",
    ),
    (re.compile(r"(?<![\w.])main\.(?=\w)", re.IGNORECASE), ""),
)
_OR_IGNORE = re.compile(r"^(\s*INSERT)\s+OR\s+IGNORE\b", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(?:main\.)?\"?(\w+)\"?", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_ON_CONFLICT = re.compile(r"\bON\s+CONFLICT\b", re.IGNORECASE)


class Translated(NamedTuple):
    """One statement for psycopg, and how to build its parameters from sqlite3's."""

    sql: str
    order: tuple[int, ...] | None  # parameter indexes, in order; None: as given
    returning_id: bool  # ``RETURNING id`` was added: rows are ids, not the caller's rows

    def params(self, given: Sequence[Any]) -> tuple[Any, ...]:
        """The parameters in the order the translated statement uses them."""
        if self.order is None:
            return tuple(given)
        return tuple(given[i] for i in self.order)


def translate(sql: str, tables_with_id: frozenset[str] = frozenset()) -> Translated:
    """``sql`` for PostgreSQL (see the module doc); cached per (SQL, tables) pair."""
    return _translate(sql, tables_with_id)


@functools.lru_cache(maxsize=4096)
def _translate(sql: str, tables_with_id: frozenset[str]) -> Translated:
    pieces: list[str] = []
    order: list[int] = []
    numbered = False
    code_parts: list[str] = []  # text outside literals and comments, to test for keywords

    def flush_code(code: str) -> None:
        nonlocal numbered
        out = []
        position = 0
        for match in re.finditer(r"\?(\d*)|%", code):
            out.append(_rewrite_words(code[position : match.start()]))
            position = match.end()
            if match.group(0) == "%":
                out.append("%%")
                continue
            if match.group(1):
                numbered = True
                order.append(int(match.group(1)) - 1)
            else:
                order.append(max(order, default=-1) + 1)
            out.append("%s")
        out.append(_rewrite_words(code[position:]))
        text = "".join(out)
        code_parts.append(text)
        pieces.append(text)

    index, start, length = 0, 0, len(sql)
    while index < length:
        char = sql[index]
        end = -1
        if char in "'\"":
            end = index + 1
            while end < length:
                if sql[end] == char:
                    if end + 1 < length and sql[end + 1] == char:  # '' inside a literal
                        end += 2
                        continue
                    break
                end += 1
            end += 1
        elif sql.startswith("--", index):
            newline = sql.find("\n", index)
            end = length if newline < 0 else newline
        elif sql.startswith("/*", index):
            close = sql.find("*/", index + 2)
            end = length if close < 0 else close + 2
        if end < 0:
            index += 1
            continue
        flush_code(sql[start:index])
        pieces.append(sql[index:end].replace("%", "%%"))
        index = start = end
    flush_code(sql[start:])

    text = "".join(pieces)
    code = " ".join(code_parts)
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub(r"\1", text, count=1)
        if not _ON_CONFLICT.search(code):
            text = _append_before_returning(text, " ON CONFLICT DO NOTHING")
    returning_id = False
    insert = _INSERT_INTO.match(text)
    if insert and insert.group(1).lower() in tables_with_id and not _RETURNING.search(code):
        text = text.rstrip().rstrip(";") + " RETURNING id"
        returning_id = True
    plain = not numbered and order == list(range(len(order)))
    return Translated(text, None if plain else tuple(order), returning_id)


def _rewrite_words(code: str) -> str:
    for pattern, replacement in _WORD_RULES:
        code = pattern.sub(replacement, code)
    return code


def _append_before_returning(text: str, clause: str) -> str:
    found = _RETURNING.search(text)
    if found is None:
        return text.rstrip().rstrip(";") + clause
    return text[: found.start()].rstrip() + clause + " " + text[found.start() :]


def split_statements(script: str) -> list[str]:
    """A PostgreSQL script cut into its statements, at ``;`` outside literals, comments and
    dollar-quoted bodies (``$$ ... $$``, ``$tag$ ... $tag$``)."""
    statements: list[str] = []
    index, start, length = 0, 0, len(script)
    while index < length:
        char = script[index]
        if char in "'\"":
            close = index + 1
            while close < length:
                if script[close] == char:
                    if close + 1 < length and script[close + 1] == char:
                        close += 2
                        continue
                    break
                close += 1
            index = close + 1
        elif script.startswith("--", index):
            newline = script.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif script.startswith("/*", index):
            close = script.find("*/", index + 2)
            index = length if close < 0 else close + 2
        elif char == "$" and (tag := re.match(r"\$(?:[A-Za-z_]\w*)?\$", script[index:])):
            close = script.find(tag.group(0), index + len(tag.group(0)))
            if close < 0:
                raise ValueError(f"unterminated {tag.group(0)} body in a migration")
            index = close + len(tag.group(0))
        elif char == ";":
            statement = script[start:index].strip()
            if _has_code(statement):
                statements.append(statement)
            index = start = index + 1
        else:
            index += 1
    rest = script[start:].strip()
    if _has_code(rest):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest[:80]!r}")
    return statements


def _has_code(text: str) -> bool:
    """Whether ``text`` holds more than comments and blanks."""
    without = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return any(line.strip() and not line.strip().startswith("--") for line in without.splitlines())


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``, from a lock's name."""
    digest = hashlib.blake2b(f"areaclienti:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (else it is a SQLite file)."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def public_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))
