"""Canonical tables, declared once.

Each kind of export (orders, invoices, payments, activities, customers, and the FX-rates table)
is a :class:`Table` of :class:`Field` s. Ingest derives its parsing and row rules from these
declarations, and checks every clean table against the schema they declare: each column's type,
its nullability, its value checks (:func:`field_checks`) and the key's uniqueness. The check is
stated twice from the same declarations: as a pandera schema (:func:`pandera_schema`, what
``clean_file`` and the tests use) and in SQL (:func:`sql_checks`, what ``salesops ingest`` runs
on every clean row before it is written, without importing pandas or pandera).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .sql import quote_literal, quote_name

__all__ = [
    "ACTIVITY_TYPES",
    "INVOICE_STATUSES",
    "KINDS",
    "ORDER_STATUSES",
    "Field",
    "Table",
    "ValueCheck",
    "field_checks",
    "pandera_schema",
    "sql_checks",
    "sql_type",
]

FieldType = Literal["id", "text", "date", "amount", "number", "bool", "enum", "currency", "label"]

ORDER_STATUSES = ("received", "processing", "on_hold", "shipped", "invoiced", "cancelled")
INVOICE_STATUSES = ("open", "partially_paid", "paid", "disputed", "written_off", "credited")
ACTIVITY_TYPES = ("call", "email", "meeting", "note", "escalation", "follow_up")


@dataclass(frozen=True)
class Field:
    """One canonical column.

    ``required`` columns must be present in the file (after mapping); ``nullable=False`` values
    must be present on every row. ``values`` lists the allowed values of an ``enum`` column.
    ``label`` columns are free words normalized to lower_snake_case (activity outcomes).
    """

    name: str
    type: FieldType
    required: bool = False
    nullable: bool = True
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A canonical table: its key and fields, in canonical order.

    ``derived`` names the columns ingest derives when an export lacks them, in the order it
    derives them (a later one may use an earlier one: an invoice's status uses its paid amount).
    A derived column that is ``required`` may be missing from a file (a payments export without
    payment ids gets a stable id per row). The rules themselves are in
    :func:`salesops_analysis.ingest.parse_sql.derived_expr`.

    ``distinct`` names the other id columns whose values rarely repeat within a load: the one
    document a row belongs to (an invoice's order, a payment's invoice). The warehouse stores
    them, a one-column key and ``_key`` with ZSTD (see
    :func:`salesops_analysis.warehouse_schema.create_tables`).
    """

    kind: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    doc: str = ""
    derived: tuple[str, ...] = field(default=())
    distinct: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        """Return the canonical column names in order."""
        return [f.name for f in self.fields]

    @property
    def derivable(self) -> tuple[str, ...]:
        """Return the required columns an export may lack, because ingest derives them."""
        return tuple(n for n in self.derived if self.field(n).required)

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _f(name: str, type: FieldType, *, req: bool = False, null: bool = True, values=()) -> Field:
    return Field(name, type, required=req, nullable=null, values=tuple(values))


KINDS: dict[str, Table] = {
    "orders": Table(
        "orders",
        ("order_id",),
        (
            _f("order_id", "id", req=True, null=False),
            _f("customer_id", "id", req=True, null=False),
            _f("order_date", "date", req=True, null=False),
            _f("sales_rep", "text"),
            _f("team", "text"),
            _f("status", "enum", null=False, values=ORDER_STATUSES),
            _f("amount", "amount", req=True, null=False),
            _f("currency", "currency", null=False),
            _f("promised_date", "date"),
            _f("shipped_date", "date"),
            _f("invoiced_date", "date"),
        ),
        doc="Sales orders; status derived from the dates when the export has none.",
        derived=("status", "currency"),
    ),
    "invoices": Table(
        "invoices",
        ("invoice_id",),
        (
            _f("invoice_id", "id", req=True, null=False),
            _f("customer_id", "id", req=True, null=False),
            _f("order_id", "id"),
            _f("invoice_date", "date", req=True, null=False),
            _f("due_date", "date", req=True, null=False),
            _f("amount", "amount", req=True, null=False),
            _f("currency", "currency", null=False),
            _f("status", "enum", null=False, values=INVOICE_STATUSES),
            _f("paid_amount", "amount", null=False),
            _f("paid_date", "date"),
            _f("disputed", "bool", null=False),
            _f("payment_terms", "text"),
            # optional: a credit note (negative amount) names the invoice it credits
            _f("applies_to_invoice_id", "id"),
            # optional: the balance due on the export's date; where it is mapped and paid_amount
            # is not, paid_amount = amount - open_amount
            _f("open_amount", "amount"),
        ),
        doc="Invoices and credit notes (negative amounts).",
        derived=("paid_amount", "disputed", "status", "currency"),
        distinct=("order_id",),
    ),
    "payments": Table(
        "payments",
        ("payment_id",),
        (
            _f("payment_id", "id", req=True, null=False),
            _f("invoice_id", "id", req=True, null=False),
            _f("customer_id", "id"),
            _f("payment_date", "date", req=True, null=False),
            _f("amount", "amount", req=True, null=False),
            _f("currency", "currency", null=False),
        ),
        doc="Cash received, one row per payment allocation to an invoice.",
        derived=("currency", "payment_id"),
        distinct=("invoice_id",),
    ),
    "activities": Table(
        "activities",
        ("activity_id",),
        (
            _f("activity_id", "id", req=True, null=False),
            _f("activity_date", "date", req=True, null=False),
            _f("owner", "text"),
            _f("type", "enum", req=True, null=False, values=ACTIVITY_TYPES),
            _f("customer_id", "id"),
            _f("invoice_id", "id"),
            _f("order_id", "id"),
            _f("outcome", "label"),
            _f("promised_date", "date"),
            _f("promised_amount", "amount"),
        ),
        doc="Calls, e-mails, meetings, notes and escalations by collectors and sales reps.",
    ),
    "customers": Table(
        "customers",
        ("customer_id",),
        (
            _f("customer_id", "id", req=True, null=False),
            _f("name", "text"),
            _f("segment", "text"),
            _f("country", "text"),
            _f("credit_limit", "amount"),
            _f("payment_terms", "text"),
        ),
        doc="Customer master data.",
    ),
    "fx_rates": Table(
        "fx_rates",
        ("date", "currency"),
        (
            _f("date", "date", req=True, null=False),
            _f("currency", "currency", req=True, null=False),
            _f("rate", "number", req=True, null=False),
        ),
        doc="Rate from the currency to the reporting currency on a date (amount × rate).",
    ),
}

_SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "label": "VARCHAR",
    "currency": "VARCHAR",
    "date": "DATE",
    "amount": "DECIMAL(18, 2)",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
}


def sql_type(f: Field) -> str:
    """Return the DuckDB type of a canonical field."""
    return _SQL_TYPES[f.type]


_DTYPES = {
    "id": "str",
    "text": "str",
    "enum": "str",
    "label": "str",
    "currency": "str",
    "date": "datetime64[us]",
    "amount": "float64",
    "number": "float64",
    "bool": "bool",
}


@dataclass(frozen=True)
class ValueCheck:
    """One check of a column's present values (missing values are the nullability's concern).

    ``op`` is ``isin`` (``arg``: the allowed values), ``matches`` (``arg``: a regular expression
    the whole value must match), ``gt`` or ``lt`` (``arg``: the bound, exclusive).
    """

    op: Literal["isin", "matches", "gt", "lt"]
    arg: object


def field_checks(f: Field) -> tuple[ValueCheck, ...]:
    """Return the value checks of a canonical field: enums take their listed values, currency
    codes three capital letters, rates are above zero.

    Examples
    --------
    >>> field_checks(KINDS["fx_rates"].field("rate"))
    (ValueCheck(op='gt', arg=0),)
    """
    if f.type == "enum":
        return (ValueCheck("isin", f.values),)
    if f.type == "currency":
        return (ValueCheck("matches", "[A-Z]{3}"),)
    if f.type == "number":
        return (ValueCheck("gt", 0),)
    return ()


def pandera_schema(kind: str):
    """Return the pandera schema of a canonical table (extra columns allowed).

    Examples
    --------
    >>> pandera_schema("payments").columns["amount"].dtype
    DataType(float64)
    """
    import pandera.pandas as pa  # imported on first use: it is slow to import

    table = KINDS[kind]
    cols = {}
    for f in table.fields:
        checks = [_pandera_check(pa, c) for c in field_checks(f)]
        cols[f.name] = pa.Column(
            _DTYPES[f.type], checks=checks, nullable=f.nullable, coerce=False, required=True
        )
    return pa.DataFrameSchema(
        cols,
        unique=list(table.key),
        strict=False,
        ordered=False,
        name=kind,
    )


def _pandera_check(pa, check: ValueCheck):
    if check.op == "isin":
        return pa.Check.isin(check.arg)
    if check.op == "matches":  # the whole value, as regexp_full_match in SQL
        return pa.Check.str_matches(rf"^(?:{check.arg})\Z")
    return getattr(pa.Check, check.op)(check.arg)


def sql_checks(kind: str) -> list[tuple[str, str, str]]:
    """Return the schema's row checks in SQL: ``(column, check, condition)``, the condition
    holding on a row that breaks the check (a missing value where the field is not nullable, a
    present value that fails one of :func:`field_checks`).

    The column types (:func:`sql_type`) and the key's uniqueness are checked over the whole
    table, not row by row (see :func:`salesops_analysis.ingest.validate.check_schema_sql`).

    Examples
    --------
    >>> sql_checks("fx_rates")[-1]
    ('rate', 'greater_than(0)', '"rate" IS NOT NULL AND NOT ("rate" > 0)')
    """
    checks = []
    for f in KINDS[kind].fields:
        col = quote_name(f.name)
        if not f.nullable:
            checks.append((f.name, "not_nullable", f"{col} IS NULL"))
        for c in field_checks(f):
            if c.op == "isin":
                values = ", ".join(quote_literal(v) for v in c.arg)
                name, holds = f"isin({list(c.arg)})", f"{col} IN ({values})"
            elif c.op == "matches":
                name = f"str_matches('{c.arg}')"
                holds = f"regexp_full_match({col}, {quote_literal(c.arg)})"
            else:
                word = {"gt": "greater_than", "lt": "less_than"}[c.op]
                sign = {"gt": ">", "lt": "<"}[c.op]
                name, holds = f"{word}({c.arg})", f"{col} {sign} {c.arg}"
            checks.append((f.name, name, f"{col} IS NOT NULL AND NOT ({holds})"))
    return checks
