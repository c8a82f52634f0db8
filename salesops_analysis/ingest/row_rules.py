"""The row rules: what makes a row rejected, and what makes a whole file refused.

Every rule is a SQL condition over one parsed row, with the column it names, the raw value shown
and the reason (:func:`row_problems`): per field (blank key, not a date, unknown currency...)
and across columns (:data:`CROSS_COLUMN_RULES`: due before issued, paid more than the amount,
a balance that does not fit the amount). A file is refused whole when most values of a column
fail to parse (:func:`refuse_mostly_unparseable`), or when its grand total does not tie
(:func:`check_grand_total`).
"""

from __future__ import annotations

from .._errors import FileRefusedError
from ..config import KindOptions
from ..schemas import KINDS, Field, Table
from ..sql import quote_literal, quote_name
from .layout import ReportLines
from .parse_sql import amount_expr

__all__ = [
    "CROSS_COLUMN_RULES",
    "ISO_4217",
    "MOSTLY_UNPARSEABLE",
    "Rule",
    "bad_row_sql",
    "check_grand_total",
    "problem_sql",
    "refuse_mostly_unparseable",
    "row_problems",
]

#: One row rule: (SQL condition that holds on a bad row, column named, SQL of the value shown,
#: SQL of the reason).
Rule = tuple[str, str, str, str]

#: A column is refused as a format/config problem when more than this share of its non-blank
#: values fail to parse (and at least ``_MIN_VALUES_FOR_REFUSAL`` values are present).
MOSTLY_UNPARSEABLE = 0.5


_MIN_VALUES_FOR_REFUSAL = 10


ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
    VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)


#: Rules across a row's columns, per kind; a rule applies when every column it uses is known.
CROSS_COLUMN_RULES: dict[str, list[Rule]] = {
    "invoices": [
        ("due_date < invoice_date", "due_date", "due_date", "'due date before invoice date'"),
        (
            "abs(paid_amount) > abs(amount) + 0.005",
            "paid_amount",
            "paid_amount",
            "'paid amount above invoice amount'",
        ),
        (
            "paid_amount * amount < 0",
            "paid_amount",
            "paid_amount",
            "'paid amount of the opposite sign to the amount'",
        ),
    ],
    "orders": [
        (
            "shipped_date < order_date",
            "shipped_date",
            "shipped_date",
            "'shipped before it was ordered'",
        ),
        (
            "invoiced_date < order_date",
            "invoiced_date",
            "invoiced_date",
            "'invoiced before it was ordered'",
        ),
    ],
    "fx_rates": [("rate <= 0", "rate", "rate", "'rate must be positive'")],
}
#: Field types whose text is parsed (a filled cell may fail to read).
_PARSED_TYPES = ("date", "amount", "number", "bool", "enum")
#: The columns the cross-column rules use.
_RULE_COLUMNS = (
    "due_date",
    "invoice_date",
    "paid_amount",
    "amount",
    "shipped_date",
    "order_date",
    "invoiced_date",
    "rate",
)


def problem_sql(cond: str, column: str, value: str, reason: str) -> str:
    """Return SQL for one rule: a ``{column, value, reason}`` struct on a bad row, else NULL."""
    return (
        f"CASE WHEN {cond} THEN {{'column': {quote_literal(column)}, "
        f"'value': CAST({value} AS VARCHAR),"
        f" 'reason': {reason}}} END"
    )


def row_problems(
    table: Table, kind: str, mapping: dict[str, str], present: set[str], options: KindOptions
) -> list[Rule]:
    """Return every row rule of the kind: ``(condition, column, raw value, reason)``.

    ``mapping`` names the columns read from the file (their raw text is ``_raw_<name>``),
    ``present`` those known after deriving.
    """
    out = []
    for f in table.fields:
        if f.name in present:
            out += _field_problems(f, table, kind, f.name in mapping, options)
    return out + _cross_column_problems(kind, mapping, present)


def bad_row_sql(
    table: Table, kind: str, mapping: dict[str, str], present: set[str], options: KindOptions
) -> str:
    """Return SQL that is true exactly on the rows where a rule of :func:`row_problems` holds.

    The same rules, written to be cheap on every row (the reasons are worked out for the bad
    rows only): a non-nullable field is bad exactly when its value is NULL (unreadable, or
    missing), so the raw text is looked at only for a nullable field that is parsed (a filled
    cell that does not read). :func:`~salesops_analysis.ingest.clean.clean_export` checks that
    both agree on every file (the rows flagged bad are the rows with a reason).
    """
    conds = []
    for f in table.fields:
        if f.name in present:
            conds += _field_bad(f, table, f.name in mapping, options)
    conds += [cond for cond, *_ in _cross_column_problems(kind, mapping, present)]
    return " OR ".join(f"coalesce({c}, false)" for c in conds) or "false"


def _field_bad(f: Field, table: Table, in_file: bool, options: KindOptions) -> list[str]:
    """Return conditions whose OR is the OR of :func:`_field_problems`'s conditions for ``f``."""
    c = quote_name(f.name)
    typed = f.type in _PARSED_TYPES and in_file
    # an id, text or currency value is NULL exactly when its cell is blank (and no default)
    blank_is_null = typed or not in_file or f.type in ("id", "text", "currency")
    if f.name in table.key or (not f.nullable and blank_is_null):
        out = [f"{c} IS NULL"]
    else:
        out = [cond for cond, *_ in _field_problems(f, table, "", in_file, options)]
        return out
    if f.type == "date" and in_file:
        out.append(f"{c} < DATE '1900-01-01'")
    if f.type == "currency":
        out.append(_currency_rule(f.name)[0])
    return out


def _cross_column_problems(kind: str, mapping: dict[str, str], present: set[str]) -> list[Rule]:
    """Return the rules across columns that apply to what the file has (see
    :data:`CROSS_COLUMN_RULES`), and the balance's rules."""
    out = []
    for cond, col, val, reason in CROSS_COLUMN_RULES.get(kind, []):
        if {w for w in _RULE_COLUMNS if w in cond} <= present:
            if col == "paid_amount" and "paid_amount" not in mapping and "open_amount" in present:
                continue  # paid = amount - open: the open amount's own rules say it once
            out.append((cond, col, val, reason))
    if kind == "invoices" and "open_amount" in present:
        out += _open_amount_problems("paid_amount" in mapping)
    return out


def _field_problems(
    f: Field, table: Table, kind: str, in_file: bool, options: KindOptions
) -> list[Rule]:
    """Return the rules of one field: blank key, unreadable or missing value, old date, code."""
    c = quote_name(f.name)
    rc = quote_name("_raw_" + f.name) if in_file else "NULL"
    blank_raw = f"nullif(trim({rc}), '') IS NULL" if in_file else "true"
    if f.name in table.key:
        return [(f"{c} IS NULL", f.name, rc, "'blank key'")]
    out = []
    if f.type in _PARSED_TYPES and in_file:
        what = {
            "date": f"'not a date in the formats tried ({', '.join(options.formats())})'",
            "amount": "'not an amount'",
            "number": "'not a number'",
            "bool": "'not a yes/no value'",
            "enum": f"'unknown {f.name} (expected one of {', '.join(f.values)}, or map "
            f"the word under kinds.{kind}.value_maps.{f.name})'",
        }[f.type]
        out.append((f"{c} IS NULL AND NOT ({blank_raw})", f.name, rc, what))
    if not f.nullable:
        out.append((f"{c} IS NULL AND {blank_raw}", f.name, rc, "'missing value'"))
    if f.type == "date" and in_file:
        # DuckDB's %Y reads "12/19/20" as the year 20: such a date is refused, not kept
        out.append(
            (
                f"{c} < DATE '1900-01-01'",
                f.name,
                rc,
                "'date before 1900 (a two-digit year read with %Y? use %y)'",
            )
        )
    if f.type == "currency":
        out.append(_currency_rule(f.name))
    return out


def _currency_rule(name: str) -> Rule:
    c = quote_name(name)
    codes = "|".join(sorted(ISO_4217))  # one compiled regex: cheaper than IN (...)
    cond = f"{c} IS NOT NULL AND NOT regexp_full_match({c}, '{codes}')"
    return (cond, name, c, "'unknown currency code'")


def _open_amount_problems(paid_mapped: bool) -> list[Rule]:
    """Return the row rules of an invoice's balance due (``open_amount``).

    The balance has the amount's sign (a credit note's is negative or zero) and is not larger
    than the amount. Where the file also has a paid amount, the two agree to the cent:
    ``paid_amount = amount - open_amount``; where it has none, the paid amount is derived from
    the balance, so a row without one is rejected.
    """
    out = [
        (
            "open_amount * amount < 0",
            "open_amount",
            "open_amount",
            "'open amount of the opposite sign to the amount'",
        ),
        (
            "abs(open_amount) > abs(amount) + 0.005",
            "open_amount",
            "open_amount",
            "'open amount above invoice amount ' || amount",
        ),
    ]
    if paid_mapped:
        out.append(
            (
                "abs(paid_amount - (amount - open_amount)) > 0.005",
                "open_amount",
                "open_amount",
                "'paid amount ' || paid_amount || ' and open amount ' || open_amount || "
                "' disagree: amount ' || amount || ' - open amount = ' || (amount - open_amount)",
            )
        )
    else:
        out.append(
            (
                "nullif(trim(\"_raw_open_amount\"), '') IS NULL",
                "open_amount",
                '"_raw_open_amount"',
                "'missing value (paid_amount is derived from open_amount)'",
            )
        )
    return out


def refuse_mostly_unparseable(con, raw, table, kind, mapping, options, rejects) -> None:
    """Refuse the file when most values of a typed column fail to parse (a format problem).

    ``rejects`` are the row problems found; ``_parsed`` holds the parsed rows.

    Raises
    ------
    FileRefusedError
        More than :data:`MOSTLY_UNPARSEABLE` of a column's values (at least 10) are not read.
    """
    typed = [
        f
        for f in table.fields
        if f.name in mapping and f.type in ("date", "amount", "number", "bool")
    ]
    if not typed or rejects.num_rows == 0:
        return
    con.register("_rej_arrow", rejects)
    failed = dict(
        con.execute("""
        SELECT "column", count(DISTINCT line) FROM _rej_arrow
        WHERE reason LIKE 'not a%' GROUP BY 1""").fetchall()
    )
    con.unregister("_rej_arrow")
    if not failed:
        return
    counts = con.execute(
        "SELECT " + ", ".join(f"count({quote_name(f.name)})" for f in typed) + " FROM _parsed"
    ).fetchall()[0]
    for f, good in zip(typed, counts, strict=True):
        bad = failed.get(f.name, 0)
        n = good + bad
        if n >= _MIN_VALUES_FOR_REFUSAL and bad / n > MOSTLY_UNPARSEABLE:
            raise FileRefusedError(raw.path, _format_problem(f, mapping, options, bad, n, kind))


def _format_problem(f: Field, mapping, options: KindOptions, bad: int, n: int, kind: str) -> str:
    share = f"{bad / n:.0%} of {n:,} values in column '{mapping[f.name]}' ({f.name})"
    if f.type == "date":
        return (
            f"{share} are not dates in the formats tried ({', '.join(options.formats())}): a "
            f"format problem; set kinds.{kind}.date_formats (or day_first) in salesops.yml"
        )
    if f.type == "amount":
        return (
            f"{share} are not amounts with decimal '{options.decimal}' and thousands "
            f"'{options.thousands}': set kinds.{kind}.decimal / thousands in salesops.yml"
        )
    if f.type == "bool":
        return f"{share} are not yes/no words: set kinds.{kind}.true_values / false_values"
    return f"{share} are not numbers: check kinds.{kind}.decimal in salesops.yml"


def check_grand_total(con, raw, report: ReportLines, kind, mapping, options) -> None:
    """Refuse the file when its grand total row does not tie to the data rows' amounts.

    Every amount column mapped from the file whose grand total cell is filled is checked against
    the sum of that column over the data rows (loaded, rejected or duplicate alike: a total that
    does not tie means rows were lost, not rejected). In a line-level export a column that is
    not summed over the lines is added up once per document.
    """
    if report.grand_total is None:
        return
    sums = options.line_sums
    for f in KINDS[kind].fields:
        if f.type != "amount" or f.name not in mapping:
            continue
        src = mapping[f.name]
        text = (report.grand_total.get(src) or "").strip()
        if not text:
            continue
        total = con.execute(f"SELECT {amount_expr(quote_literal(text), options)}").fetchall()[0][0]
        if total is None:
            continue
        if sums is not None and f.name not in sums:
            one = f"SELECT any_value({quote_name(f.name)}) AS v FROM _parsed GROUP BY _key"
            sql = f"SELECT sum(v) FROM ({one})"
        else:
            sql = f"SELECT sum({amount_expr(quote_name(src), options)}) FROM _raw_arrow"
        found = con.execute(sql).fetchall()[0][0] or 0
        if abs(found - total) > 0.005:
            raise FileRefusedError(
                raw.path,
                f"the grand total on line {report.grand_total_line} does not tie: '{src}' totals "
                f"{total:,.2f} but the data rows add up to {found:,.2f} (difference "
                f"{total - found:,.2f}); rows may be missing from the export",
            )
