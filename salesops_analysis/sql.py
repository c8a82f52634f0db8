"""Writing SQL text safely: quoted identifiers and string literals for DuckDB."""

from __future__ import annotations

__all__ = ["quote_literal", "quote_name"]


def quote_name(name: str) -> str:
    """Return ``name`` as a quoted SQL identifier.

    Examples
    --------
    >>> print(quote_name('Open "Balance" EUR'))
    "Open ""Balance"" EUR"
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """Return ``value`` as a quoted SQL string literal.

    Examples
    --------
    >>> print(quote_literal("O'Neil"))
    'O''Neil'
    """
    return "'" + str(value).replace("'", "''") + "'"
