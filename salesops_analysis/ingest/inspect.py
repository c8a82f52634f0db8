"""Propose the config that reads an export: ``salesops inspect FILE``.

:func:`inspect_export` reads the file as ingest would, and guesses, each guess with its evidence:

* encoding, delimiter and the header row (the first line whose cells are all text and at least
  half as many as the fullest of the first lines; lines above it are a title block);
* which column is which canonical column: by its header (names and synonyms ERPs and accounting
  systems use: *Num*, *Invoice No*, *Document Number*, *Party*, *Client*, *Balance Due*...) and
  checked by content (a date column must hold dates, an amount column amounts); a required column
  no header names is taken by content (the only unmapped date or amount column left);
* decimal and thousands separators, and date formats, by trying every candidate on the values
  (on an evenly spread sample of :data:`SAMPLE_ROWS` rows of a bigger file, which it says);
* a line-level grain (the key repeats): the amount columns that differ between a document's lines
  are summed, those that repeat are not;
* status words, with ``value_maps`` proposed for the words ingest does not know.

The config is then tried on the file (as ``salesops ingest`` would read and clean it) and the
accounting, or the reason it was refused, is written at its end. Ambiguous choices are left as
comments naming the candidates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .._errors import FileRefusedError, SalesOpsError
from ..config import DEFAULT_VALUE_MAPS, MONTH_NAME_FORMATS, KindOptions, config_from_dict
from ..schemas import KINDS
from ..sql import quote_literal, quote_name
from .columns import LINE_ID
from .layout import HEADER_SEARCH_LINES, find_header

__all__ = ["Inspection", "SAMPLE_ROWS", "inspect_export"]

#: Files with more data rows than this are profiled on an evenly spread sample of this many.
SAMPLE_ROWS = 50_000

#: A key repeated on at least this many rows per key, on average, makes a line-level export;
#: fewer repeats are versions of one row (an export listing later edits again).
LINE_LEVEL_ROWS_PER_KEY = 1.1

#: Date formats tried on every date-like column (ISO first; %y before %Y, see config.py).
DATE_CANDIDATES = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d",
    "%m/%d/%y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d.%m.%y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    *MONTH_NAME_FORMATS,
)
_SEPARATORS = ((".", ","), (",", "."), (".", ""), (",", ""), (",", " "), (".", "'"))

# Header words (lower case, punctuation as spaces) per canonical column, most specific first.
_ID_WORDS = ("no", "number", "num", "nr", "id", "code", "ref", "reference")
# fmt: off
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "invoices": {
        "invoice_id": (
            "invoice number", "invoice no", "invoice num", "invoice id", "invoice", "inv no",
            "invoice nr", "invoice ref", "bill no", "document number", "document no", "doc no",
            "voucher no", "voucher", "num", "no", "number", "id", "reference", "transaction no",
            "document",
        ),
        "customer_id": (
            "customer id", "customer code", "customer no", "customer number", "customer",
            "customer name", "client", "client name", "party", "party name", "partner", "contact",
            "contact name", "debtor", "account", "account name", "bill to", "sold to",
            "customer account",
        ),
        "order_id": ("order id", "order no", "order number", "sales order", "so number", "po"),
        "invoice_date": (
            "invoice date", "invoice bill date", "date", "document date", "doc date",
            "posting date",
            "transaction date", "issue date", "bill date", "date issued", "invoice dt",
        ),
        "due_date": ("due date", "net due date", "payment due date", "due", "date due", "due on"),
        "amount": (
            "amount", "invoice amount", "invoiced amount", "total signed", "total", "grand total",
            "invoice total", "total amount",
            "amount total", "total amount in document currency", "amount in doc curr",
            "amount in dc", "sales", "gross amount", "total incl tax", "value", "total bcy",
            "total fcy", "amount signed",
        ),
        "open_amount": (
            "open amount", "open balance", "balance due", "balance", "outstanding",
            "outstanding amount", "amount due", "amount residual", "residual", "open",
            "amount due signed", "balance bcy", "due amount", "offener betrag",
            "amount outstanding",
        ),
        "paid_amount": ("paid amount", "amount paid", "paid", "total paid", "payments"),
        "paid_date": (
            "paid date", "date paid", "settled date", "clearing date", "cleared date",
            "payment date",
        ),
        "currency": ("currency", "currency code", "curr", "crcy", "document currency"),
        "status": ("payment status", "invoice status", "status", "payment state", "state"),
        "disputed": ("disputed", "in dispute", "dispute", "dispute flag"),
        "payment_terms": (
            "payment terms label", "payment terms", "terms", "payment term", "terms of payment",
        ),
        "applies_to_invoice_id": ("return against", "reversed entry", "applies to"),
    },
    "orders": {
        "order_id": (
            "order id", "order no", "order number", "order", "sales order", "so number",
            "document number", "document no", "num", "no", "number", "id", "reference",
        ),
        "customer_id": (
            "customer id", "customer code", "customer no", "customer", "customer name", "client",
            "client name", "party", "party name", "partner", "contact", "account",
        ),
        "order_date": (
            "order date", "date", "transaction date", "posting date", "document date", "created",
            "created on", "creation date",
        ),
        "sales_rep": ("sales rep", "salesperson", "sales person", "salesman", "rep", "owner"),
        "team": ("team", "sales team", "region"),
        "status": ("status", "order status", "state"),
        "amount": (
            "amount", "total", "order total", "grand total", "net amount", "sales", "line total",
            "value", "subtotal", "total amount",
        ),
        "currency": ("currency", "currency code", "curr"),
        "promised_date": ("promised date", "delivery date", "requested date", "commitment date"),
        "shipped_date": ("shipped date", "ship date", "delivered date", "shipping date"),
        "invoiced_date": ("invoiced date", "invoice date", "billed date"),
    },
    "payments": {
        "payment_id": (
            "payment id", "payment entry", "payment no", "payment number", "payment", "receipt no",
            "receipt",
            "payment reference", "transaction id", "reference", "ref", "document number", "num",
            "no", "number", "id",
        ),
        "invoice_id": (
            "invoice id", "invoice no", "invoice number", "invoice", "applied to",
            "against invoice", "bill no", "reference invoice",
        ),
        "customer_id": (
            "customer id", "customer code", "customer", "customer name", "client", "party",
            "partner", "contact", "account",
        ),
        "payment_date": (
            "payment date", "date", "received date", "receipt date", "value date", "posting date",
            "date paid",
        ),
        "amount": (
            "amount", "paid amount", "amount paid", "paid", "payment amount", "received", "total",
        ),
        "currency": ("currency", "currency code", "curr"),
    },
    "customers": {
        "customer_id": (
            "customer id", "customer code", "customer no", "customer number", "customer", "id",
            "code", "account", "account number",
        ),
        "name": ("name", "customer name", "company", "company name", "display name"),
        "segment": ("segment", "customer group", "group", "category", "type"),
        "country": ("country", "country code", "territory"),
        "credit_limit": ("credit limit", "credit line"),
        "payment_terms": ("payment terms", "terms", "payment term"),
    },
    "activities": {
        "activity_id": ("activity id", "id", "activity", "number"),
        "activity_date": (
            "activity date", "date", "timestamp", "date time", "datetime", "created", "created on",
        ),
        "owner": ("owner", "user", "collector", "assigned to"),
        "type": ("activity type", "type", "channel"),
        "customer_id": ("customer id", "customer", "client", "party", "account"),
        "invoice_id": ("invoice id", "invoice", "invoice no"),
        "order_id": ("order id", "order", "order no"),
        "outcome": ("outcome", "result"),
        "promised_date": ("promised date", "promise date"),
        "promised_amount": ("promised amount", "promise amount"),
    },
}
# fmt: on
_LINE_WORDS = ("line id", "line no", "line number", "line", "item no", "line item", "idx", "row")

# Guessed status words, tried in order: (regex on the word, canonical value).
_STATUS_GUESSES = {
    "invoices": (
        (r"partial|part paid|partly", "partially_paid"),
        (
            r"unpaid|not paid|overdue|outstanding|open|due|sent|posted|approved|awaiting|pending"
            r"|submitted|viewed|issued|authorised|authorized",
            "open",
        ),
        (r"paid|settled|closed|cleared|in payment", "paid"),
        (r"disput", "disputed"),
        (r"write|bad debt", "written_off"),
        (r"void|cancel|credit|return|revers", "credited"),
    ),
    "orders": (
        (r"hold|block", "on_hold"),
        (r"cancel|void|lost", "cancelled"),
        (r"invoic|bill|complet|closed|done|lock", "invoiced"),
        (r"ship|deliver|dispatch", "shipped"),
        (r"process|progress|confirm|sale|to deliver", "processing"),
        (r"new|open|draft|quot|received|sent|pending", "received"),
    ),
}


@dataclass
class Inspection:
    """What :func:`inspect_export` found: the kind, the config text and the check's outcome."""

    path: Path
    kind: str
    header_line: int
    mapping: dict[str, str]
    config_text: str
    rows: int
    sampled: bool
    checked: str = ""
    ambiguous: list[str] = field(default_factory=list)


def _words(name: str) -> str:
    """Return a header as lower-case words: "Invoice No." -> "invoice no", "customerID" ->
    "customer id" (camelCase split)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split())


def _y(value) -> str:
    """Return ``value`` as a one-line YAML scalar or flow collection."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_y(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_y(k)}: {_y(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


# -- the header ------------------------------------------------------------------------------
def _first_rows(path: Path) -> tuple[list[tuple[int, list[str]]], str | None, str | None]:
    """Return the first lines as cells, and the encoding and delimiter (None for a workbook)."""
    from .sniff import cell_text, detect_encoding, sniff_delimiter

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # the reader refuses it with the reason below
            raise FileRefusedError(path, f"not a readable .xlsx workbook ({exc})") from None
        try:
            rows = []
            for i, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                rows.append((i, [cell_text(v) for v in row]))
                if i >= HEADER_SEARCH_LINES:
                    break
        finally:
            wb.close()
        return rows, None, None
    if not path.is_file():
        raise FileRefusedError(path, "file not found")
    head = path.read_bytes()[:65536]
    encoding = detect_encoding(path, head, "auto")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[:HEADER_SEARCH_LINES]
    if not lines:
        raise FileRefusedError(path, "file is empty")
    delimiter = sniff_delimiter(lines, "auto")
    rows = list(enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter), 1))
    return rows, encoding, delimiter


def _looks_like_value(cell: str) -> bool:
    s = cell.strip()
    return bool(re.fullmatch(r"[-+($€£¥]*\s*[\d.,/:\- ]+\)?", s)) and any(c.isdigit() for c in s)


def guess_header(rows: list[tuple[int, list[str]]]) -> int:
    """Return the line number of the header among the first lines of a file.

    The first line whose non-blank cells are all text (no number, amount or date) and at least
    half as many as the fullest line's, and at least two.
    """
    counts = [sum(1 for c in cells if c.strip()) for _, cells in rows]
    most = max(counts, default=0)
    for (line, cells), n in zip(rows, counts, strict=True):
        if n >= max(2, most / 2) and not any(_looks_like_value(c) for c in cells if c.strip()):
            return line
    return rows[0][0] if rows else 1


# -- profiling -------------------------------------------------------------------------------
@dataclass
class _Profile:
    name: str
    filled: int = 0
    distinct: int = 0
    dates: dict[str, int] = field(default_factory=dict)
    amounts: dict[tuple[str, str], int] = field(default_factory=dict)
    decimals: int = 0  # values written with a decimal part or a currency sign

    @property
    def date_like(self) -> bool:
        return self.filled > 0 and max(self.dates.values(), default=0) >= 0.9 * self.filled

    def amount_like(self, sep: tuple[str, str]) -> bool:
        return self.filled > 0 and self.amounts.get(sep, 0) >= 0.9 * self.filled


_DATE_SHAPE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|^\d{8}$|[a-z]{3}"
_AMOUNT_SHAPE = r"^[-+(\s]*[$€£¥]?\s*[\d.,' ]*\d[\d.,' ]*\s*[$€£¥]?\s*\)?-?$"


def _profile(con: duckdb.DuckDBPyConnection, columns: list[str]) -> dict[str, _Profile]:
    """Return what each column of ``_sample`` holds: filled values, dates and amounts per format.

    Formats are tried only on the columns whose values mostly have the shape of a date or an
    amount (one cheap regex pass), since a failed strptime costs DuckDB far more than a match.
    """
    from .parse_sql import amount_expr

    vals = {c: f"nullif(trim({quote_name(c)}), '')" for c in columns}
    shape = []
    for c in columns:
        v = vals[c]
        shape += [
            f"count({v})",
            f"approx_count_distinct({v})",
            f"count(CASE WHEN regexp_matches(lower({v}), {quote_literal(_DATE_SHAPE)}) THEN 1 END)",
            f"count(CASE WHEN regexp_matches({v}, {quote_literal(_AMOUNT_SHAPE)}) THEN 1 END)",
            rf"count(CASE WHEN regexp_matches({v}, '[.,]\d{{1,2}}\)?-?$|[$€£¥]') THEN 1 END)",
        ]
    row = con.execute(f"SELECT {', '.join(shape)} FROM _sample").fetchall()[0] if columns else []
    out = {}
    for i, c in enumerate(columns):
        filled, distinct, dated, numeric, decimals = (int(x) for x in row[5 * i : 5 * i + 5])
        p = _Profile(c, filled, distinct, decimals=decimals)
        p.dates = dict.fromkeys(DATE_CANDIDATES, 0)
        p.amounts = dict.fromkeys(_SEPARATORS, 0)
        v = vals[c]
        exprs = []
        if filled and dated >= 0.5 * filled:
            exprs += [
                f"count(CASE WHEN try_strptime({v}, {quote_literal(f)}) >= TIMESTAMP '1900-01-01' "
                "THEN 1 END)"
                for f in DATE_CANDIDATES
            ]
        if filled and numeric >= 0.5 * filled:
            exprs += [
                f"count({amount_expr(v, KindOptions(decimal=d, thousands=t))})"
                for d, t in _SEPARATORS
            ]
        if exprs:
            counts = con.execute(f"SELECT {', '.join(exprs)} FROM _sample").fetchall()[0]
            if filled and dated >= 0.5 * filled:
                p.dates = dict(zip(DATE_CANDIDATES, map(int, counts), strict=False))
                counts = counts[len(DATE_CANDIDATES) :]
            if filled and numeric >= 0.5 * filled:
                p.amounts = dict(zip(_SEPARATORS, map(int, counts), strict=True))
        out[c] = p
    return out


_RIVALS = {
    "%m/%d/%Y": "%d/%m/%Y",
    "%d/%m/%Y": "%m/%d/%Y",
    "%m/%d/%y": "%d/%m/%y",
    "%d/%m/%y": "%m/%d/%y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%m-%d-%Y": "%d-%m-%Y",
}


def _date_evidence(p: _Profile, formats: list[str], covered: int) -> str:
    line = f"{p.name}: {covered:,} of {p.filled:,} values parse as {' or '.join(formats)}"
    for f in formats:
        if f in _RIVALS:
            line += f"; {p.filled - p.dates.get(_RIVALS[f], 0):,} are impossible as {_RIVALS[f]}"
    return line


def _choose_formats(
    con: duckdb.DuckDBPyConnection, date_cols: list[str], profiles: dict[str, _Profile]
) -> tuple[list[str], list[str], list[str]]:
    """Return the date formats covering every value of the date columns, evidence, ambiguities."""
    chosen: list[str] = []
    evidence: list[str] = []
    ambiguous: list[str] = []
    filled = [c for c in date_cols if profiles[c].filled]
    # one format that reads every value of every date column: the columns decide together
    full = [
        f
        for f in DATE_CANDIDATES
        if filled and all(profiles[c].dates[f] == profiles[c].filled for c in filled)
    ]
    if full:
        if len(full) > 1:
            ambiguous.append(
                f"dates: every value parses as any of {', '.join(full)}; {full[0]} chosen"
            )
        for c in filled:
            evidence.append(_date_evidence(profiles[c], [full[0]], profiles[c].filled))
        return [full[0]], evidence, ambiguous
    for c in date_cols:
        p = profiles[c]
        if p.filled == 0:
            continue
        # greedy cover: the format that parses most values not parsed yet, until none is left
        covered = 0
        own: list[str] = []
        while covered < p.filled and len(own) < 4:
            done = " OR ".join(
                f"try_strptime(v, {quote_literal(f)}) >= TIMESTAMP '1900-01-01'"
                for f in chosen + own
            )
            counts = con.execute(
                "SELECT "
                + ", ".join(
                    f"count(CASE WHEN try_strptime(v, {quote_literal(f)}) "
                    ">= TIMESTAMP '1900-01-01' "
                    "THEN 1 END)"
                    for f in DATE_CANDIDATES
                )
                + f" FROM (SELECT nullif(trim({quote_name(c)}), '') AS v FROM _sample)"
                + " WHERE v IS NOT NULL"
                + (f" AND NOT coalesce({done}, false)" if done else "")
            ).fetchall()[0]
            best = max(counts)
            if best == 0:
                break
            ties = [f for f, n in zip(DATE_CANDIDATES, counts, strict=True) if n == best]
            pick = ties[0]
            if len(ties) > 1:
                ambiguous.append(
                    f"{c}: {best:,} values parse as any of {', '.join(ties)}; {pick} chosen"
                )
            own.append(pick)
            covered += best
        for f in own:
            if f not in chosen:
                chosen.append(f)
        if own:
            evidence.append(_date_evidence(p, own, covered))
        elif chosen:  # read by the formats another column chose
            best = max(chosen, key=lambda f: p.dates.get(f, 0))
            evidence.append(_date_evidence(p, [best], p.dates.get(best, 0)))
    # in the candidates' order: %y before %Y, so that "12/19/20" is never read as the year 20
    chosen.sort(key=DATE_CANDIDATES.index)
    return chosen, evidence, ambiguous


# -- mapping ---------------------------------------------------------------------------------
def _match_names(columns: list[str], kind: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Return target -> column by header names, and the other candidates of each target."""
    words = {c: _words(c) for c in columns}
    mapping: dict[str, str] = {}
    others: dict[str, list[str]] = {}
    used: set[str] = set()
    synonyms = dict(SYNONYMS[kind])
    if kind not in ("invoices",):
        synonyms.pop("open_amount", None)
    for target, names in synonyms.items():
        found = []
        for n in names:
            found += [c for c in columns if words[c] == n and c not in used and c not in found]
        if kind != "customers" and target.endswith("_id") and not found:
            # "Invoice #", "Invoice Nbr": the entity's word followed by an id word
            stem = target[: -len("_id")]
            found = [
                c
                for c in columns
                if c not in used
                and words[c].split()[:1] == [stem.rstrip("s")]
                and set(words[c].split()[1:]) <= set(_ID_WORDS)
            ]
        if found:
            mapping[target] = found[0]
            used.add(found[0])
            if len(found) > 1:
                others[target] = found[1:]
    return mapping, others


def _choose_kind(path: Path, columns: list[str], kind: str | None) -> tuple[str, str]:
    """Return the kind and why: --kind, else the first kind whose required columns are all
    named (the file name's kind when it is one of those with as many required columns)."""
    from ..config import Config
    from .load import detect_kind

    if kind:
        return kind, "given with --kind"
    try:
        named = detect_kind(path, Config())
    except FileRefusedError:
        named = None
    missing = {}
    for k in ("invoices", "orders", "payments", "activities", "customers"):
        mapping, _ = _match_names(columns, k)
        missing[k] = [
            f.name
            for f in KINDS[k].fields
            if f.required and f.name not in mapping and (k, f.name) != ("payments", "payment_id")
        ]
    complete = [k for k in missing if not missing[k]]
    required = {k: sum(f.required for f in KINDS[k].fields) for k in KINDS}
    named_found = required[named] - len(missing[named]) if named in missing else 0
    if complete and named_found <= required[complete[0]] and named != complete[0]:
        why = "from its columns" + (f" (the file name says {named})" if named else "")
        return complete[0], why
    if named in missing:
        return named, "from the file name"
    best = min(missing, key=lambda k: len(missing[k]))
    return best, "from its columns (none maps every required column)"


def _status_words(con, column: str, kind: str) -> tuple[dict[str, str], list[str]]:
    """Return proposed value_maps for the status words ingest does not know, and unknowns."""
    allowed = KINDS[kind].field("status").values
    known = set(DEFAULT_VALUE_MAPS.get(kind, {}).get("status", {}))
    known |= set(allowed) | {v.replace("_", " ") for v in allowed}
    rows = con.execute(
        f"SELECT lower(trim({quote_name(column)})) AS w, count(*) FROM _sample "
        f"WHERE trim({quote_name(column)}) <> '' GROUP BY 1 ORDER BY 2 DESC LIMIT 51"
    ).fetchall()
    if len(rows) > 50:
        return {}, ["more than 50 different words: not a status column"]
    proposed: dict[str, str] = {}
    unknown: list[str] = []
    for word, _n in rows:
        if word in known:
            continue
        for pattern, value in _STATUS_GUESSES.get(kind, ()):
            if re.search(pattern, word):
                proposed[word] = value
                break
        else:
            unknown.append(word)
    return proposed, unknown


# -- the whole inspection --------------------------------------------------------------------
def inspect_export(path: str | Path, *, kind: str | None = None) -> Inspection:
    """Return the config that reads ``path``, with the evidence for each choice.

    Parameters
    ----------
    path : str or Path
        A CSV or XLSX export.
    kind : str, optional
        Its kind; by default from the file name, else from its columns.

    Raises
    ------
    FileRefusedError
        The file cannot be read as a table.
    """
    from .read import read_export

    path = Path(path)
    if not path.is_file():
        raise FileRefusedError(path, "file not found" if not path.exists() else "not a file")
    first, encoding, delimiter = _first_rows(path)
    header = guess_header(first)
    base = KindOptions(
        header_row=header, encoding=encoding or "auto", delimiter=delimiter or "auto"
    )
    raw = read_export(path, base)
    kind, kind_why = _choose_kind(path, raw.columns, kind)
    if kind not in KINDS:
        raise SalesOpsError(f"unknown kind '{kind}' (kinds: {', '.join(KINDS)})")
    table = raw.table
    # report lines (one cell, or a Total label first) are left out of the profile
    cells = [pc.utf8_trim_whitespace(table.column(c)) for c in raw.columns]
    filled = [pc.not_equal(c, "").cast(pa.int32()) for c in cells]
    n_filled = filled[0]
    for f in filled[1:]:
        n_filled = pc.add(n_filled, f)
    firsts = pc.coalesce(*[pc.if_else(pc.equal(c, ""), None, c) for c in cells])
    total = pc.match_substring_regex(
        pc.utf8_lower(pc.fill_null(firsts, "")), r"^('?(sub)?total|\*+$)"
    )
    data = table.filter(pc.and_(pc.greater(n_filled, 1), pc.invert(total)))
    rows = data.num_rows
    sampled = rows > SAMPLE_ROWS
    sample = data.take(pa.array(range(0, rows, -(-rows // SAMPLE_ROWS)))) if sampled else data
    con = duckdb.connect()
    try:
        con.register("_sample", sample)
        con.register("_data", data)
        return _inspect(
            con, path, raw, kind, kind_why, first, header, encoding, delimiter, rows, sampled
        )
    finally:
        con.close()


def _inspect(con, path, raw, kind, kind_why, first, header, encoding, delimiter, rows, sampled):
    table = KINDS[kind]
    columns = raw.columns
    profiles = _profile(con, columns)
    notes: list[str] = []
    ambiguous: list[str] = []
    mapping, others = _match_names(columns, kind)
    why = {t: "by name" for t in mapping}
    # separators: the convention that reads most values of the amount-named columns
    amount_targets = [t for t in mapping if t in table.columns and table.field(t).type == "amount"]
    scored = [mapping[t] for t in amount_targets] or [
        c for c in columns if profiles[c].decimals and not profiles[c].date_like
    ]
    score = {s: sum(profiles[c].amounts[s] for c in scored) for s in _SEPARATORS}
    sep = max(_SEPARATORS, key=lambda s: (score[s], s == (".", ",")))
    # content checks: a date column holds dates, an amount column amounts
    for t in list(mapping):
        f = table.field(t) if t in table.columns else None
        p = profiles[mapping[t]]
        if p.filled == 0:
            continue
        if f is not None and f.type == "date" and not p.date_like:
            notes.append(f"{mapping[t]!r} is named like {t} but holds no dates: not mapped")
            del mapping[t]
        elif (t in amount_targets) and not p.amount_like(sep):
            notes.append(f"{mapping[t]!r} is named like {t} but holds no amounts: not mapped")
            del mapping[t]
    # required columns no header names: taken by content (the first column that fits; several
    # candidates are listed as ambiguous)
    used = set(mapping.values())
    for f in table.fields:
        if not f.required or f.name in mapping or (kind == "payments" and f.name == "payment_id"):
            continue
        if f.type == "date":
            fits = [c for c in columns if c not in used and profiles[c].date_like]
        elif f.type == "amount":
            fits = [
                c
                for c in columns
                if c not in used
                and profiles[c].amount_like(sep)
                and profiles[c].decimals
                and not profiles[c].date_like
            ]
        else:
            fits = []
        if len(fits) >= 1:
            mapping[f.name] = fits[0]
            used.add(fits[0])
            why[f.name] = (
                "by content: "
                + ("the only" if len(fits) == 1 else "the first")
                + (f" unmapped {f.type} column")
            )
            if len(fits) > 1:
                ambiguous.append(f"{f.name}: candidates {', '.join(map(repr, fits))}")
    missing = [
        f.name
        for f in table.fields
        if f.required
        and f.name not in mapping
        and not (kind == "payments" and f.name == "payment_id")
    ]
    # dates
    date_cols = [
        mapping[t] for t in mapping if t in table.columns and table.field(t).type == "date"
    ]
    formats, date_evidence, date_ambiguous = _choose_formats(con, date_cols, profiles)
    ambiguous += date_ambiguous
    # currency: only 3-letter codes
    if "currency" in mapping:
        bad = con.execute(
            "SELECT count(*) FROM _sample "
            f"WHERE trim({quote_name(mapping['currency'])}) <> '' AND NOT "
            f"regexp_full_match(upper(trim({quote_name(mapping['currency'])})), '[A-Z]{{3}}')"
        ).fetchall()[0][0]
        if bad:
            notes.append(
                f"{mapping['currency']!r} holds values that are not currency codes: not mapped"
            )
            del mapping["currency"]
    # status words
    value_maps: dict[str, str] = {}
    if "status" in mapping and "status" in table.columns:
        value_maps, unknown = _status_words(con, mapping["status"], kind)
        if unknown:
            notes.append(
                f"status words not known: {', '.join(map(repr, unknown))}: {mapping['status']!r} "
                "kept as text (status_text) and status derived; map the words under value_maps "
                "and the column to status to use it"
            )
            mapping["status_text"] = mapping.pop("status")
            why["status_text"] = "status words not known"
            value_maps = {}
    # line-level grain
    lines_sum, lines_note, line_col = _lines(con, table, mapping, notes)
    # the config
    out: list[str] = []
    n = f"{rows:,} data rows"
    prof = f"profiled on an evenly spread sample of {SAMPLE_ROWS:,}" if sampled else "all profiled"
    out.append(f"# salesops inspect {path.name}: {n} ({prof})")
    out.append(f"# kind: {kind}, {kind_why}")
    if header > 1:
        above = "line 1 is" if header == 2 else f"lines 1-{header - 1} are"
        out.append(f"# header on line {header}: {above} a title block")
    for note in notes:
        out.append(f"# note: {note}")
    for a in ambiguous:
        out.append(f"# ambiguous: {a}")
    if missing:
        out.append(f"# NEEDS EDITS: no column found for {', '.join(missing)}; map it under columns")
    out.append("kinds:")
    out.append(f"  {kind}:")
    from ..config import Config
    from .load import detect_kind

    try:
        named = detect_kind(path, Config())
    except FileRefusedError:
        named = None
    if named != kind:
        out.append(f"    file_patterns: [{_y(path.name)}]   # the file name does not say {kind}")
    if encoding:
        out.append(f"    encoding: {_y(encoding)}")
    if delimiter:
        out.append(f"    delimiter: {_y(delimiter)}")
    opts_for_auto = KindOptions(columns={c: t for t, c in mapping.items()})
    auto_line = None if missing else find_header(first, kind, opts_for_auto)
    if auto_line == header:
        out.append(f"    header_row: auto   # finds line {header}")
    else:
        out.append(f"    header_row: {header}")
    out.append(f"    decimal: {_y(sep[0])}")
    out.append(f"    thousands: {_y(sep[1])}   # amounts read best as 1{sep[1]}234{sep[0]}56")
    if formats:
        out.append(f"    date_formats: {_y(formats)}")
        for e in date_evidence:
            out.append(f"    #   {e}")
    out.append("    columns:")
    width = max((len(_y(c)) for c in mapping.values()), default=0)
    for t, c in mapping.items():
        comment = why.get(t, "by name")
        if t in others:
            comment += f"; other candidates: {', '.join(map(repr, others[t]))}"
        out.append(f"      {_y(c).ljust(width)}: {t}   # {comment}")
    if line_col:
        out.append(f"      {_y(line_col).ljust(width)}: {LINE_ID}   # identifies the lines")
    unmapped = [c for c in columns if c not in mapping.values() and c != line_col]
    if unmapped:
        out.append(f"    # unmapped: {', '.join(_y(c) for c in unmapped)}")
    if kind == "payments" and "payment_id" not in mapping:
        out.append("    # no payment id column: ingest derives a stable id from each row")
    if lines_sum is not None:
        out.append(f"    lines: {{sum: {_y(lines_sum)}}}   # {lines_note}")
    if value_maps:
        out.append("    value_maps:   # status words proposed from their meaning: check them")
        out.append(f"      status: {_y(value_maps)}")
    text = "\n".join(out) + "\n"
    if missing:
        checked = "not checked: columns missing"
    elif sampled:
        from .read import RawTable

        part = con.sql("SELECT * FROM _sample").to_arrow_table()
        sample_raw = RawTable(path, part, raw.columns, [], raw.encoding, raw.delimiter, raw.excel)
        checked = _check(path, kind, text, sample=sample_raw) + " (on the sample)"
    else:
        checked = _check(path, kind, text)
    text += f"# check: {checked}\n"
    return Inspection(path, kind, header, mapping, text, rows, sampled, checked, ambiguous)


def _lines(con, table, mapping, notes) -> tuple[list[str] | None, str, str | None]:
    """Return the sum columns of a line-level export (None for one row per key), the evidence
    and the line id column."""
    key = table.key[0]
    if table.kind not in ("orders", "invoices") or key not in mapping:
        return None, "", None
    k = quote_name(mapping[key])
    n, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT lower(trim({k}))) FROM _data WHERE trim({k}) <> ''"
    ).fetchall()[0]
    if n == distinct or distinct == 0:
        return None, "", None
    evidence = f"{mapping[key]!r}: {n:,} rows hold {distinct:,} different values"
    if n < LINE_LEVEL_ROWS_PER_KEY * distinct:
        notes.append(
            f"{evidence}: a few keys repeat, taken as versions of one row (the last wins); "
            f"if they are the lines of one document, set lines"
        )
        return None, "", None
    varying = {}
    for t, c in mapping.items():
        if t == key:
            continue
        varying[t] = con.execute(
            f"SELECT count(*) FROM (SELECT lower(trim({k})) AS k FROM _data WHERE trim({k}) <> '' "
            f"GROUP BY 1 HAVING count(DISTINCT trim({quote_name(c)})) > 1)"
        ).fetchall()[0][0]
    # only canonical amounts are summed; an extra amount that differs between lines is unmapped,
    # and so is a balance (a balance on each line may be the document's, as of different days)
    amounts = [
        t
        for t in mapping
        if t in table.columns and table.field(t).type == "amount" and t != "open_amount"
    ]
    sums = [t for t in amounts if varying.get(t)]
    for t in list(mapping):
        if t in varying and varying[t] and t not in sums:
            if table.field(t).required if t in table.columns else False:
                notes.append(
                    f"{mapping[t]!r} ({t}) differs between lines of {varying[t]:,} documents: "
                    "their lines will be rejected"
                )
            else:
                notes.append(
                    f"{mapping[t]!r} ({t}) differs between lines of one document: not mapped"
                )
                del mapping[t]
    line_col = None
    names = [d[0] for d in con.execute("SELECT * FROM _data LIMIT 0").description]
    words = {c: _words(c) for c in names}
    for w in _LINE_WORDS:
        for c, cw in words.items():
            if cw == w and c not in mapping.values() and c != "_line":
                dup = con.execute(
                    f"SELECT count(*) - count(DISTINCT (lower(trim({k})), trim({quote_name(c)}))) "
                    f"FROM _data WHERE trim({k}) <> ''"
                ).fetchall()[0][0]
                if dup == 0:
                    line_col = c
                    break
        if line_col:
            break
    what = (
        "summed: they differ between a document's lines"
        if sums
        else ("every line repeats the document's amounts: loaded once")
    )
    return sums, f"one row per line ({evidence}); {what}", line_col


def _check(path: Path, kind: str, text: str, sample=None) -> str:
    """Return the accounting of the config tried on the file (or on ``sample``, a RawTable of
    the sampled rows), or why it was refused."""
    from .clean import clean_export
    from .read import read_export

    cfg = config_from_dict(yaml.safe_load(text), source="inspect")
    try:
        raw = sample if sample is not None else read_export(path, cfg.kind(kind), kind)
        result = clean_export(raw, kind, cfg.kind(kind), validate=False)
    except SalesOpsError as exc:
        return f"REFUSED: {exc}"
    docs = f" ({result.documents:,} documents)" if result.documents != result.loaded else ""
    return (
        f"read {result.rows_read:,} = loaded {result.loaded:,}{docs} + rejected "
        f"{result.rejected:,} + duplicates {result.duplicates:,} + skipped {result.skipped:,}"
    )
