"""The canonical tables together, read from a warehouse and converted to one currency."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from .._errors import CurrencyError
from ..config import Config
from ..schemas import KINDS
from ..warehouse import Warehouse
from .fx import check_rates, rates_on
from .receivables import rate_factors
from .snapshots import has_snapshots

__all__ = ["Tables", "load_tables", "payments_table"]


def _empty(kind: str) -> pd.DataFrame:
    dtypes = {"date": "datetime64[us]", "amount": "float64", "number": "float64", "bool": "bool"}
    return pd.DataFrame(
        {f.name: pd.Series(dtype=dtypes.get(f.type, "str")) for f in KINDS[kind].fields}
    )


@dataclass
class Tables:
    """Canonical tables as DataFrames. ``payments`` is ``None`` when no payments were exported
    (balances then come from the invoices' ``paid_amount``/``paid_date``), unless open-items
    snapshots were loaded: ``payments`` then holds the payments they imply and
    ``payments_source`` is ``"snapshots"`` (see :mod:`salesops_analysis.metrics.snapshots`).

    ``exports`` names the kinds that were ever ingested (:func:`load_tables` reads them from the
    ingest log); ``None`` (tables built by hand) counts a kind as exported when its frame has
    rows. A report tells "no orders export" from "no orders today" by :meth:`has`.
    """

    invoices: pd.DataFrame = field(default_factory=lambda: _empty("invoices"))
    payments: pd.DataFrame | None = None
    orders: pd.DataFrame = field(default_factory=lambda: _empty("orders"))
    activities: pd.DataFrame = field(default_factory=lambda: _empty("activities"))
    customers: pd.DataFrame = field(default_factory=lambda: _empty("customers"))
    fx_rates: pd.DataFrame = field(default_factory=lambda: _empty("fx_rates"))
    currency: str | None = None
    exports: frozenset[str] | None = None
    payments_source: str | None = None

    @property
    def payments_implied(self) -> bool:
        """Return whether ``payments`` are implied by open-items snapshots, not exported."""
        return self.payments_source == "snapshots"

    def has(self, kind: str) -> bool:
        """Return whether the ``kind`` export was loaded (even if it holds no rows today).

        Payments implied by snapshots are not a payments export: ``has("payments")`` is then
        False, and :attr:`payments_implied` True.
        """
        if kind not in KINDS:
            raise ValueError(f"no such table: {kind}")
        if self.exports is not None:
            return kind in self.exports
        frame = getattr(self, kind)
        return frame is not None and len(frame) > 0

    def missing_exports(self) -> list[str]:
        """Return the optional exports that were not loaded, in the canonical order."""
        return [kind for kind in KINDS if kind != "invoices" and not self.has(kind)]

    def rates(self, as_of, config: Config) -> tuple[dict[str, float], str]:
        """Return the FX rates in force on ``as_of`` and the currency amounts are reported in.

        With every amount in one currency that has no rate, that currency is reported as it is
        (rates ``{}``).

        Raises
        ------
        CurrencyError
            Several currencies and some without a rate (the message names them).
        """
        frames = [self.invoices, self.orders] + (
            [self.payments] if self.payments is not None else []
        )
        currencies = set()
        for frame in frames:
            currencies |= set(frame["currency"].dropna().unique())
        reporting = config.reporting_currency
        fx = self.fx_rates
        if fx is not None and len(fx):
            # a rate table converts into the currency whose rate is always 1
            ones = fx.groupby("currency")["rate"].agg(lambda r: bool((r == 1.0).all()))
            bases = sorted(ones.index[ones])
            if bases and reporting not in bases:
                raise CurrencyError(
                    f"the fx_rates table converts to {', '.join(bases)} (its rate is 1) but "
                    f"reporting_currency is {reporting}: set reporting_currency: {bases[0]} "
                    "in salesops.yml or load rates to " + reporting
                )
        rates = {**rates_on(as_of, fx, config.fx_rates), reporting: 1.0}
        if len(currencies) == 1 and next(iter(currencies)) not in rates:
            return {}, next(iter(currencies))
        check_rates(currencies, rates, as_of, reporting)
        return rates, reporting

    def in_reporting_currency(self, as_of, config: Config) -> Tables:
        """Return a copy with every amount converted at the rates of ``as_of``.

        When all amounts are in one currency without a rate, nothing is converted and
        ``currency`` is that currency.

        Raises
        ------
        CurrencyError
            Several currencies and some without a rate (the message names them).
        """
        rates, currency = self.rates(as_of, config)
        if not rates:
            return replace(self, currency=currency)
        pieces = [("invoices", ["amount", "paid_amount"]), ("orders", ["amount"])]
        if self.payments is not None:
            pieces.append(("payments", ["amount"]))
        out = {}
        for name, cols in pieces:
            frame = getattr(self, name).copy()
            factor = rate_factors(frame["currency"], rates, len(frame))
            for col in cols:
                frame[col] = frame[col].astype("float64") * factor
            frame["currency"] = currency
            out[name] = frame
        return replace(self, **out, currency=currency)


def load_tables(wh: Warehouse, *, columns: dict[str, list[str]] | None = None) -> Tables:
    """Return every canonical table of the warehouse (payments ``None`` if none loaded).

    ``columns`` reads only the named columns of some tables (``{"orders": [...]}``), for a
    report that needs few columns of a big table; the others are read whole.
    """
    columns = columns or {}
    unknown = sorted(set(columns) - set(KINDS))
    if unknown:
        raise ValueError(f"no such table: {', '.join(unknown)}")
    exports = frozenset(
        row[0] for row in wh.con.execute("SELECT DISTINCT kind FROM ingest_log").fetchall()
    )
    frames = {
        kind: wh.table(kind, columns=columns.get(kind)) for kind in KINDS if kind != "payments"
    }
    payments, source = payments_table(wh, columns=columns.get("payments"), exports=exports)
    return Tables(
        invoices=frames["invoices"],
        payments=payments,
        payments_source=source,
        orders=frames["orders"],
        activities=frames["activities"],
        customers=frames["customers"],
        fx_rates=frames["fx_rates"],
        exports=exports,
    )


def payments_table(
    wh: Warehouse, *, columns: list[str] | None = None, exports: frozenset[str] | None = None
) -> tuple[pd.DataFrame | None, str | None]:
    """Return the payments the reports read, and where they come from.

    The payments export when one was loaded (``"export"``); else the payments implied by
    open-items snapshots (``"snapshots"``, see :mod:`salesops_analysis.metrics.snapshots`),
    in the payments table's columns and types; else ``(None, None)``.

    Parameters
    ----------
    wh : Warehouse
        An open warehouse.
    columns : list of str, optional
        Only these payments columns.
    exports : frozenset of str, optional
        The kinds in the ingest log, when the caller has read them already.
    """
    if exports is None:
        loaded = wh.con.execute("SELECT count(*) FROM ingest_log WHERE kind = 'payments'")
        has_payments = loaded.fetchall()[0][0] > 0
    else:
        has_payments = "payments" in exports
    if has_payments:
        return wh.table("payments", columns=columns), "export"
    if not has_snapshots(wh.con):
        return None, None
    from .._frames import query_frame

    names = columns or [f.name for f in KINDS["payments"].fields]
    query = f"SELECT {', '.join(names)} FROM implied_payments ORDER BY payment_date, payment_id"
    frame = query_frame(wh.con, query)
    empty = wh.table("payments", columns=names)
    return (frame.astype(empty.dtypes.to_dict()) if len(frame) else empty), "snapshots"
