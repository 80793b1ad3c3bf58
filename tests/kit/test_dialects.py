"""The dialect seam and table ownership, pinned: engine-specific code lives only in ``kit.dialects``, no domain
re-declares another's table, and only the accounts domain writes SQL on account states."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from openbureau.kit.dialects import PostgresDialect, SqliteDialect, dialect_for, dialect_for_url

SRC = Path(__file__).resolve().parents[2] / "src" / "openbureau"


def _modules(*, outside: tuple[str, ...]) -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py"))
            if not any(p.relative_to(SRC).as_posix().startswith(prefix) for prefix in outside)]


def test_only_the_dialects_ask_which_engine_a_connection_talks_to() -> None:
    found = [f"{p.relative_to(SRC)}:{n}" for p in _modules(outside=("kit/dialects/",))
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if "dialect.name" in line or "get_backend_name" in line]
    assert found == [], f"engine branches outside kit/dialects: {found}"


def test_no_module_re_declares_a_table_by_name() -> None:
    # sqlalchemy's lightweight ``table("name", column(...))`` is how a domain would name another's table
    # without importing its model; every table has one owner, whose repository the others call.
    found = []
    for path in _modules(outside=()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                found += [f"{path.relative_to(SRC)}: {a.name}" for a in node.names if a.name in ("table", "column")]
    assert found == []


def test_only_the_accounts_domain_writes_sql_on_account_states() -> None:
    # Column expressions (``AccountState.person_id == ...``) and the publication filter are SQL; other
    # modules may name the model as a type or take its column list for a frame, nothing more.
    found = []
    for path in _modules(outside=("accounts/", "migrations/")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "AccountState" and not node.attr.startswith("__")):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} AccountState.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("openbureau"):
                found += [f"{path.relative_to(SRC)}:{node.lineno} {a.name}" for a in node.names
                          if a.name in ("LoadInProgress", "PUBLISHED")]
    assert found == []


def test_each_engine_has_its_dialect(runtime) -> None:
    dialect = dialect_for(runtime.engine)
    assert isinstance(dialect, PostgresDialect if runtime.engine.url.get_backend_name() == "postgresql"
                      else SqliteDialect)
    assert dialect_for_url(runtime.engine.url.render_as_string(hide_password=False)) is dialect


def test_an_engine_without_a_dialect_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="does not run on mysql"):
        dialect_for_url("mysql://bureau@localhost/bureau")
