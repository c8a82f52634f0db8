"""``salesops inspect``: which column is which: by header names, status words and the grain.

Header names are matched against the names ERPs and accounting systems use (:data:`SYNONYMS`);
the kind comes from the file name or the columns; status words get proposed ``value_maps``; a key
that repeats makes a line-level export (:func:`line_grain`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .._errors import FileRefusedError
from ..config import DEFAULT_VALUE_MAPS
from ..schemas import KINDS, Table
from ..sql import quote_name

__all__ = [
    "ID_WORDS",
    "LINE_LEVEL_ROWS_PER_KEY",
    "LINE_WORDS",
    "STATUS_GUESSES",
    "SYNONYMS",
    "choose_kind",
    "header_words",
    "line_grain",
    "match_names",
    "status_words",
]

#: A key repeated on at least this many rows per key, on average, makes a line-level export;
#: fewer repeats are versions of one row (an export listing later edits again).
LINE_LEVEL_ROWS_PER_KEY = 1.1


# Header words (lower case, punctuation as spaces) per canonical column, most specific first.
ID_WORDS = ("no", "number", "num", "nr", "id", "code", "ref", "reference")


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
#: Header words of a column that identifies the lines of one document.
LINE_WORDS = ("line id", "line no", "line number", "line", "item no", "line item", "idx", "row")


# Guessed status words, tried in order: (regex on the word, canonical value).
STATUS_GUESSES = {
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


def header_words(name: str) -> str:
    """Return a header as lower-case words: "Invoice No." -> "invoice no", "customerID" ->
    "customer id" (camelCase split)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split())


def match_names(columns: list[str], kind: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Return target -> column by header names, and the other candidates of each target.

    A header matches a target when its words (:func:`header_words`) are one of the target's
    :data:`SYNONYMS`, tried most specific first; an id column may also be named by the entity's
    word and an id word ("Invoice #", "Invoice Nbr").
    """
    words = {c: header_words(c) for c in columns}
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
                and set(words[c].split()[1:]) <= set(ID_WORDS)
            ]
        if found:
            mapping[target] = found[0]
            used.add(found[0])
            if len(found) > 1:
                others[target] = found[1:]
    return mapping, others


def choose_kind(path: Path, columns: list[str], kind: str | None) -> tuple[str, str]:
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
        mapping, _ = match_names(columns, k)
        missing[k] = [
            f.name
            for f in KINDS[k].fields
            if f.required and f.name not in mapping and f.name not in KINDS[k].derivable
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


def status_words(con, column: str, kind: str) -> tuple[dict[str, str], list[str]]:
    """Return proposed value_maps for the status words ingest does not know, and unknowns.

    The words of ``column`` in ``_sample`` are matched against :data:`STATUS_GUESSES`; more than
    50 different words is not a status column.
    """
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
        for pattern, value in STATUS_GUESSES.get(kind, ()):
            if re.search(pattern, word):
                proposed[word] = value
                break
        else:
            unknown.append(word)
    return proposed, unknown


def line_grain(
    con, table: Table, mapping: dict[str, str], notes: list[str]
) -> tuple[list[str] | None, str, str | None]:
    """Return the sum columns of a line-level export (None for one row per key), the evidence
    and the line id column.

    A key repeated on :data:`LINE_LEVEL_ROWS_PER_KEY` rows per key or more makes the file
    line-level (in ``_data``): the canonical amounts that differ between a document's lines are
    summed; other columns that differ are dropped from ``mapping`` (a note in ``notes`` says so).
    """
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
    words = {c: header_words(c) for c in names}
    for w in LINE_WORDS:
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
