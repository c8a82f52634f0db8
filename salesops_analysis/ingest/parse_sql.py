"""SQL that reads an export's text into canonical values, and derives what the file lacks.

Each expression takes the SQL of a raw text column and returns the SQL of its canonical value,
following the field types in :mod:`salesops_analysis.schemas` and the reading options in the
config: :func:`parse_expr` per field (dates, amounts, booleans, enums...), :func:`derived_expr`
for a column derived from the others. A value that cannot be read is NULL; the row rules
(:mod:`~salesops_analysis.ingest.row_rules`) say why.
"""

from __future__ import annotations

from ..config import KindOptions
from ..schemas import Field
from ..sql import quote_literal

__all__ = ["amount_expr", "date_expr", "derived_expr", "enum_expr", "parse_expr", "trim_sql"]


def _re_escape(ch: str) -> str:
    return "".join("\\" + c if c in r"\.^$|?*+()[]{}-" else c for c in ch)


def trim_sql(raw: str, trimmed: bool = False) -> str:
    """SQL of the text in ``raw`` without surrounding spaces (DuckDB's ``trim``).

    ``trimmed`` says that the text has no spaces around it already (ingest trims the columns
    that have some with Arrow first: :func:`~salesops_analysis.ingest.spaces.trimmed_columns`):
    it is then used as it is, which saves a copy of every value.
    """
    return raw if trimmed else f"trim({raw})"


def date_expr(raw: str, options: KindOptions, excel: bool, *, trimmed: bool = False) -> str:
    """SQL that parses the date in ``raw`` with the kind's date formats, first match wins.

    An Excel workbook's serial day numbers (``45658``) are read as dates first when ``excel``.
    A value no format reads is NULL (the row rules reject it). ``trimmed``: see
    :func:`trim_sql`.
    """
    s = trim_sql(raw, trimmed)
    tries = [f"try_strptime({s}, {quote_literal(fmt)})" for fmt in options.formats()]
    if excel:
        tries.insert(
            0,
            f"CASE WHEN regexp_full_match({s}, '\\d{{1,5}}(\\.\\d+)?') THEN "
            f"(DATE '1899-12-30' + CAST(floor(CAST({s} AS DOUBLE)) AS INTEGER))"
            f"::TIMESTAMP END",
        )
    return f"CAST(coalesce({', '.join(tries)}) AS DATE)"


def amount_expr(raw: str, options: KindOptions, *, trimmed: bool = False) -> str:
    """SQL that parses formatted amounts: ``1,234.50``, ``(120.00)``, ``120.00-``, ``€ 12``.

    The whole value must match the format pattern (so that ``1,23,4`` or ``12..50`` are
    rejected, never guessed); then separators, symbols and signs are dropped and the digits cast.
    Parentheses or a minus sign make the amount negative. ``trimmed``: see :func:`trim_sql`.
    """
    dec, thou = options.decimal, options.thousands
    d, t = _re_escape(dec), _re_escape(thou)
    sym = "".join(_re_escape(x) for x in options.currency_symbols)
    sym_opt = f"[{sym}]?" if sym else ""
    grouped = f"\\d{{1,3}}({t}\\d{{3}})+|" if thou else ""
    num = f"(({grouped}\\d+)({d}\\d*)?|{d}\\d+)"
    body = f"{sym_opt}\\s*{num}\\s*{sym_opt}"
    pattern = f"\\(\\s*{body}\\s*\\)|[-+]?\\s*{body}\\s*-?"
    s = trim_sql(raw, trimmed)
    # validated first, so the cast below never fails (failed casts are slow in DuckDB)
    digits = s
    for ch in [thou, *options.currency_symbols, "(", ")", " ", "-", "+"]:
        if ch:
            digits = f"replace({digits}, {quote_literal(ch)}, '')"
    if dec != ".":
        digits = f"replace({digits}, {quote_literal(dec)}, '.')"
    sign = f"CASE WHEN {s} LIKE '(%' OR contains({s}, '-') THEN -1 ELSE 1 END"
    # the common forms (1234.5, -1,234.50) take a cheaper path than symbols and parentheses
    simple = f"[-+]?{num}"
    simple_digits = f"replace({s}, {quote_literal(thou)}, '')" if thou else s
    if dec != ".":
        simple_digits = f"replace({simple_digits}, {quote_literal(dec)}, '.')"
    return (
        f"CASE WHEN regexp_full_match({s}, {quote_literal(simple)}) "
        f"THEN TRY_CAST({simple_digits} AS DECIMAL(18, 2)) "
        f"WHEN regexp_full_match({s}, {quote_literal(pattern)}) "
        f"THEN {sign} * TRY_CAST({digits} AS DECIMAL(18, 2)) END"
    )


def enum_expr(raw: str, f: Field, options: KindOptions, *, trimmed: bool = False) -> str:
    """SQL that maps a word to one of ``f.values`` (itself, with spaces, or by ``value_maps``);
    ``trimmed``: see :func:`trim_sql`."""
    words = {v: v for v in f.values}
    words.update({v.replace("_", " "): v for v in f.values})
    words.update(options.value_maps.get(f.name, {}))
    cases = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}"
        for k, v in words.items()
        if v in f.values
    )
    return f"CASE lower({trim_sql(raw, trimmed)}) {cases} END"


def parse_expr(
    f: Field, raw: str, options: KindOptions, excel: bool, *, trimmed: bool = False
) -> str:
    """SQL that reads the text in ``raw`` as the canonical field ``f`` (NULL where it cannot).

    Blank text is NULL for every type; ids and text are trimmed, labels lower_snake_case,
    currency codes upper case (the kind's default currency where blank). ``trimmed``: no value
    of ``raw`` starts or ends with a space (see :func:`trim_sql`).
    """
    s = trim_sql(raw, trimmed)
    blank = f"nullif({s}, '')"
    if f.type in ("id", "text"):
        return blank
    if f.type == "label":
        return f"nullif(trim(regexp_replace(lower({s}), '[^a-z0-9]+', '_', 'g'), '_'), '')"
    if f.type == "date":
        return date_expr(raw, options, excel, trimmed=trimmed)
    if f.type == "amount":
        return amount_expr(raw, options, trimmed=trimmed)
    if f.type == "number":
        return f"TRY_CAST(replace({s}, {quote_literal(options.decimal)}, '.') AS DOUBLE)"
    if f.type == "bool":
        # CASE rather than IN: DuckDB plans a long IN list as a join
        words = [(v, "true") for v in options.true_values]
        words += [(v, "false") for v in options.false_values]
        cases = " ".join(f"WHEN {quote_literal(w.lower())} THEN {b}" for w, b in words)
        return f"CASE lower({s}) {cases} END" if words else "CAST(NULL AS BOOLEAN)"
    if f.type == "currency":
        default = quote_literal(options.default_currency) if options.default_currency else "NULL"
        return f"coalesce(upper({blank}), {default})"
    if f.type == "enum":
        return enum_expr(raw, f, options, trimmed=trimmed)
    raise AssertionError(f.type)


def derived_expr(kind: str, name: str, present: set[str], options: KindOptions) -> str | None:
    """SQL for a canonical column the file does not have (NULL where nothing can be derived).

    ``present`` names the columns known so far (mapped, or derived before this one, in the order
    :attr:`~salesops_analysis.schemas.Table.derived` declares). Invoices: the paid amount is the
    amount once paid (a paid date), else ``amount - open_amount`` where the balance is mapped,
    else 0; the status follows from the payments and the dispute flag. Orders: the status from
    the latest date filled. Currency: the kind's default. Payments: a stable id per row.
    """
    if kind == "invoices":
        paid_date = "paid_date" if "paid_date" in present else "CAST(NULL AS DATE)"
        by_date = f"CASE WHEN {paid_date} IS NOT NULL THEN amount ELSE 0 END"
        if "paid_amount" in present:
            paid_amount = "paid_amount"
        elif "open_amount" in present:
            # paid is what is no longer due; a row without a balance is rejected (see _problems)
            paid_amount = f"coalesce(amount - open_amount, {by_date})"
        else:
            paid_amount = by_date
        if name == "paid_amount":
            return paid_amount
        if name == "disputed":
            return "false"
        if name == "status":
            disputed = "disputed" if "disputed" in present else "false"
            settled = f"{paid_date} IS NOT NULL"
            if "open_amount" in present:
                settled = f"({settled} OR open_amount = 0)"
            return (
                f"CASE WHEN {settled} AND abs({paid_amount}) >= abs(amount) "
                f"THEN 'paid' WHEN {disputed} THEN 'disputed' WHEN abs({paid_amount}) > 0 "
                f"THEN 'partially_paid' ELSE 'open' END"
            )
    if kind == "orders" and name == "status":
        parts = ["CASE"]
        if "invoiced_date" in present:
            parts.append("WHEN invoiced_date IS NOT NULL THEN 'invoiced'")
        if "shipped_date" in present:
            parts.append("WHEN shipped_date IS NOT NULL THEN 'shipped'")
        if len(parts) == 1:  # no date to tell a later status by
            return "'received'"
        parts.append("ELSE 'received' END")
        return " ".join(parts)
    if name == "currency":
        return quote_literal(options.default_currency) if options.default_currency else "NULL"
    if kind == "payments" and name == "payment_id":
        return _payment_id_expr(present)
    return None


def _payment_id_expr(present: set[str]) -> str:
    """SQL for the id of a payment row in an export without payment ids.

    ``PAY-`` and the first 16 hex digits of the MD5 of the row's invoice id (lower case), payment
    date (ISO), amount, customer id (lower case) and currency, joined by ``|``; the second and
    later rows with all of these equal (in file order) add ``-2``, ``-3``, ... The same payment
    gets the same id in every export, so that re-exports update rather than duplicate it.
    """
    parts = [
        "lower(invoice_id)",
        "CAST(payment_date AS VARCHAR)",
        "CAST(amount AS VARCHAR)",
        "lower(customer_id)" if "customer_id" in present else "''",
        "currency",
    ]
    text = f"concat_ws('|', {', '.join(f'coalesce({p}, {chr(39)}{chr(39)})' for p in parts)})"
    n = f"row_number() OVER (PARTITION BY {text} ORDER BY _line)"
    return f"'PAY-' || substr(md5({text}), 1, 16) || CASE WHEN {n} > 1 THEN '-' || {n} ELSE '' END"
