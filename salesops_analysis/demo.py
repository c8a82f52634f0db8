"""Realistic, deterministic demo ERP exports.

:func:`generate_demo` simulates a B2B seller over a date range and writes the five exports an ERP
would give (orders, invoices, payments, activities, customers) plus an FX-rates file, with the
messiness of real exports. The simulation is vectorized (numpy); DuckDB formats and writes the
files, so a million invoices take seconds.

What the exports contain, so that tests and users can count on it
-----------------------------------------------------------------
Behaviour
    * Customers have a persistent late-payment propensity. About 8% are *chronic* late payers
      (segment flag ``chronic`` in the manifest only, never in the exports) and about 6% *drift*:
      they pay later the further the simulation runs.
    * Terms NET15 / NET30 / NET45 / NET60 (enterprise customers get longer terms).
    * Orders cluster at month and quarter ends; invoices issued in the last five days of a quarter
      are paid later (end-of-quarter deals).
    * Disputes (about 4%) delay payment by 15-60 days; about 6% of invoices are paid in two
      instalments; about 1.5% get a credit note (negative invoice, id ``CN…``, column
      ``Return Against`` naming the credited invoice); a few chronic late payers are written off.
    * Three currencies (USD, EUR, GBP) by customer country; ``fx_rates.csv`` has a daily rate to
      USD for each.
    * Collectors call overdue invoices; promises to pay are kept (payment within a few days of the
      promised date) or broken; contacted invoices are paid sooner. Sales reps log meetings and
      calls on orders. Disputes are logged as activities.
    * About 6% of orders have no promised date; orders move through received → processing →
      (on hold) → shipped → invoiced, some are cancelled.
Messiness (exact counts per file are in ``demo_manifest.json``)
    * ERP-style column headers (the shipped ``salesops.yml`` maps them).
    * Amounts formatted ``1,234.50``; negative amounts as ``(120.00)``.
    * Invoices dates as ``DD/MM/YYYY``; activities as ``YYYY-MM-DD HH:MM``; others ISO.
    * About 2% of id cells with stray spaces; statuses and currency codes in mixed case.
    * ``duplicate_rate`` (0.5%) of rows repeated exactly; ``bad_row_rate`` (0.3%) of rows broken:
      a blank key, an impossible date (``2024-02-30``) or a garbage amount (``#VALUE!``). Broken and
      duplicated rows are disjoint, so an ingest must load ``rows - duplicates - bad_rows``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ._errors import SalesOpsError
from .demo_exports import EXPORTS, GARBAGE, SQL_HELPERS, ExportSpec, Simulation, credit_notes
from .demo_world import activities, payments, simulate

__all__ = ["BAD_ROW_RATE", "DEMO_END", "DUPLICATE_RATE", "generate_demo", "mess"]

DEMO_END = dt.date(2025, 6, 30)
#: Share of an export's rows repeated exactly.
DUPLICATE_RATE = 0.005
#: Share of an export's rows broken (a blank key, an impossible date, a garbage amount).
BAD_ROW_RATE = 0.003


def generate_demo(
    out: str | Path = "data/raw",
    *,
    seed: int = 7,
    scale: int = 50_000,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict:
    """Write realistic demo ERP exports and return their manifest.

    Parameters
    ----------
    out : str or Path
        Folder to write into (created if needed). Existing demo files there are replaced.
    seed : int
        Random seed; the same seed and options give byte-identical files.
    scale : int
        About how many invoices to simulate (customers: one per 25 invoices, at least 20).
    start, end : datetime.date, optional
        Simulated period; default the two years ending on :data:`DEMO_END`.

    Returns
    -------
    dict
        The manifest also written to ``demo_manifest.json``: per file the rows written, exact
        duplicates and broken rows injected, plus the period and the seed.

    Raises
    ------
    SalesOpsError
        If the period is empty or ``scale`` is below 100.

    Examples
    --------
    >>> import tempfile
    >>> m = generate_demo(tempfile.mkdtemp(), scale=2_000)
    >>> sorted(m["files"])[:2]
    ['activities.csv', 'customers.csv']
    """
    end = end or DEMO_END
    start = start or (end - dt.timedelta(days=730))
    if start >= end:
        raise SalesOpsError(f"demo period is empty: start {start} is not before end {end}")
    if scale < 100:
        raise SalesOpsError(f"--scale must be at least 100 invoices, got {scale}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    epoch = dt.date(1970, 1, 1)
    world = simulate(rng, scale, (start - epoch).days, (end - epoch).days)
    sim = Simulation(world, payments(world), activities(rng, world), rng)
    manifest: dict = {"seed": seed, "scale": scale, "start": str(start), "end": str(end)}
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        con.execute(SQL_HELPERS)
        manifest["files"] = {spec.file: write_export(con, spec, sim, out) for spec in EXPORTS}
    finally:
        con.close()
    manifest["truth"] = _truth(world)
    (out / "demo_manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def write_export(
    con: duckdb.DuckDBPyConnection, spec: ExportSpec, sim: Simulation, out: Path
) -> dict:
    """Write one export file with its messiness; return its manifest entry.

    The spec's rows get :func:`mess` codes (drawn from ``sim.rng``), are repeated where a row is
    an exact duplicate, and are formatted by the spec's SQL into ``out / spec.file``.

    Returns
    -------
    dict
        ``rows`` written, ``exact_duplicates``, ``bad_rows`` and ``bad_rows_by_kind``.
    """
    cols = spec.columns(sim)
    n = len(next(iter(cols.values())))
    table = spec.file.removesuffix(".csv")
    if not spec.messy:
        con.register(table, pa.table(cols))
        _write(con, f"SELECT {spec.select} FROM {table} ORDER BY {spec.order_by}", out / spec.file)
        return {"rows": n, "exact_duplicates": 0, "bad_rows": 0, "bad_rows_by_kind": {}}
    m = mess(sim.rng, n, len(spec.broken))
    con.register(table, pa.table({**cols, **m}))
    _write(
        con,
        f"SELECT {spec.select} FROM {table} t JOIN range(1, 3) r(k) ON r.k <= t.copies "
        f"ORDER BY {spec.order_by}",
        out / spec.file,
    )
    dups = int((m["copies"] > 1).sum())
    bad = [int(x) for x in np.bincount(m["bad"], minlength=len(spec.broken) + 1)[1:]]
    return {
        "rows": n + dups,
        "exact_duplicates": dups,
        "bad_rows": int(sum(bad)),
        "bad_rows_by_kind": dict(zip(spec.broken, bad, strict=True)),
    }


def mess(rng: np.random.Generator, n: int, bad_kinds: int) -> dict:
    """Return per-row messiness codes for ``n`` rows.

    :data:`DUPLICATE_RATE` of the rows get ``copies`` 2 and :data:`BAD_ROW_RATE` others a
    ``bad`` kind from 1 to ``bad_kinds`` (the two sets are disjoint); about 2% get stray spaces
    (``ws``); ``case`` varies the case of statuses; ``garbage`` picks a garbage amount; ``seq``
    keeps the rows' order.
    """
    n_dup = int(round(n * DUPLICATE_RATE))
    n_bad = int(round(n * BAD_ROW_RATE))
    chosen = rng.choice(n, size=min(n, n_dup + n_bad), replace=False)
    dup = np.zeros(n, dtype=np.int64)
    dup[chosen[:n_dup]] = 1
    bad = np.zeros(n, dtype=np.int64)
    bad[chosen[n_dup:]] = rng.integers(1, bad_kinds + 1, len(chosen) - n_dup)
    return dict(
        seq=np.arange(n, dtype=np.int64),
        copies=dup + 1,
        bad=bad,
        ws=rng.random(n) < 0.02,
        case=rng.choice(4, n, p=[0.85, 0.06, 0.06, 0.03]),
        garbage=rng.integers(0, len(GARBAGE), n),
    )


def _write(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    con.execute(
        f"COPY (SELECT nullif(COLUMNS(*), '') FROM ({sql})) TO '{path.as_posix()}' "
        "(FORMAT csv, HEADER true, QUOTE '\"')"
    )


def _truth(w: dict) -> dict:
    """What the exports do not say: customers, chronic and drifting payers, documents."""
    return {
        "customers": len(w["c_seg"]),
        "chronic_customers": [f"C{i + 1:06d}" for i in np.flatnonzero(w["c_chronic"])],
        "drifting_customers": [f"C{i + 1:06d}" for i in np.flatnonzero(w["c_drift"])],
        "invoices": len(w["i_day"]),
        "credit_notes": len(credit_notes(w)),
    }
