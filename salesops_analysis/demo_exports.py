"""The demo's export files, one spec each: its columns, how it is written, its messiness.

An :class:`ExportSpec` names a file, builds its columns from the simulated world (small integer
codes and numbers, one row per record), and gives the SQL ``SELECT`` list that formats them the
way an ERP would (headers, ``1,234.50`` amounts, ``DD/MM/YYYY`` dates, the injected broken rows).
:data:`EXPORTS` lists them in the order they are written; :func:`salesops_analysis.generate_demo`
writes each the same way.

Columns every messy export gets from :func:`salesops_analysis.demo.mess` and its SQL may use:
``bad`` (0, or the 1-based kind of broken row, in the order of :attr:`ExportSpec.broken`),
``ws`` (stray spaces), ``case`` (0 as is, 1 upper, 2 lower, 3 a trailing space), ``garbage``
(which garbage amount); ``seq`` and ``copies`` order and repeat the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .demo_world import (
    ACTIVITY_TYPES,
    COLLECTORS,
    COUNTRIES,
    COUNTRY_CURRENCY,
    CURRENCIES,
    INVOICE_STATUS,
    NAME_A,
    NAME_B,
    NAME_SUFFIX,
    ORDER_STATUS,
    OUTCOMES,
    REPS,
    SEGMENTS,
    TEAMS,
)

__all__ = [
    "EXPORTS",
    "GARBAGE",
    "SQL_HELPERS",
    "ExportSpec",
    "Simulation",
    "credit_notes",
    "invoice_currency",
    "lookup",
]

#: What a garbage amount cell holds.
GARBAGE = ["#VALUE!", "N/A", "12..50", "abc"]

#: DuckDB macros the export SQL uses: stray spaces, case variants, ERP money, day numbers.
SQL_HELPERS = """
CREATE OR REPLACE MACRO ws(s, flag) AS CASE WHEN flag THEN ' ' || s || '  ' ELSE s END;
CREATE OR REPLACE MACRO casev(s, c) AS CASE c WHEN 1 THEN upper(s) WHEN 2 THEN lower(s)
    WHEN 3 THEN s || ' ' ELSE s END;
CREATE OR REPLACE MACRO money(x) AS CASE WHEN x < 0 THEN '(' || format('{:,.2f}', -x) || ')'
    ELSE format('{:,.2f}', x) END;
CREATE OR REPLACE MACRO d(x) AS (DATE '1970-01-01' + CAST(x AS INTEGER));
"""


@dataclass(frozen=True)
class Simulation:
    """What the exports are written from.

    Attributes
    ----------
    world : dict
        :func:`~salesops_analysis.demo_world.simulate`'s arrays.
    payments, activities : dict
        :func:`~salesops_analysis.demo_world.payments` and
        :func:`~salesops_analysis.demo_world.activities` of that world.
    rng : numpy.random.Generator
        The generator, for an export that draws when it is written (the FX rates).
    """

    world: dict
    payments: dict
    activities: dict
    rng: np.random.Generator


@dataclass(frozen=True)
class ExportSpec:
    """One export file of the demo.

    Attributes
    ----------
    file : str
        File name, e.g. ``invoices.csv``.
    columns : callable
        ``columns(simulation)`` -> dict of equal-length arrays, one row per record, in file order.
    select : str
        SQL ``SELECT`` list over those columns (and the messiness columns), aliased ``t``.
    broken : tuple of str
        The kinds of broken row injected, named for the manifest; codes 1.. in ``bad``.
    messy : bool
        Whether rows are repeated, broken and given stray spaces (False: written as simulated).
    order_by : str
        SQL ``ORDER BY`` of the written rows.
    """

    file: str
    columns: Callable[[Simulation], dict]
    select: str
    broken: tuple[str, ...] = ()
    messy: bool = True
    order_by: str = "seq, k"


def lookup(index_expr: str, values) -> str:
    """Return SQL that maps a small integer column to a label (labels are literals, not user
    data).

    Examples
    --------
    >>> lookup("seg", ["A", "B"])
    "(['A', 'B'])[(seg) + 1]"
    """
    items = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f"([{items}])[({index_expr}) + 1]"


def _date(column: str, fmt: str = "%Y-%m-%d") -> str:
    """SQL of an optional day column (-1: blank)."""
    return f"CASE WHEN {column} < 0 THEN '' ELSE strftime(d({column}), '{fmt}') END"


def _customer_columns(sim: Simulation) -> dict:
    w = sim.world
    return dict(
        id=np.arange(1, len(w["c_seg"]) + 1),
        seg=w["c_seg"],
        country=w["c_country"],
        terms=w["c_terms"],
        climit=w["c_credit_limit"],
        na=w["c_name_a"],
        nb=w["c_name_b"],
    )


_CUSTOMERS_SQL = f"""
    CASE WHEN bad = 1 THEN '' ELSE ws(printf('C%06d', id), ws) END AS "Customer Code",
    {lookup("na", NAME_A)} || ' ' || {lookup("nb", NAME_B)} || ' '
      || {lookup("country", NAME_SUFFIX)} AS "Customer Name",
    {lookup("seg", SEGMENTS)} AS "Customer Group",
    {lookup("country", COUNTRIES)} AS "Territory",
    CASE WHEN bad = 2 THEN {lookup("garbage", GARBAGE)} ELSE money(climit) END AS "Credit Limit",
    'NET' || terms AS "Payment Terms Template\""""


def _order_columns(sim: Simulation) -> dict:
    w = sim.world
    oc = w["o_cust"]
    return dict(
        id=np.arange(1, len(w["o_day"]) + 1),
        cust=oc + 1,
        day=w["o_day"],
        rep=w["c_rep"][oc],
        status=w["o_status"],
        amount=w["o_amount"],
        ccy=COUNTRY_CURRENCY[w["c_country"][oc]],
        promised=np.where(w["o_no_promise"], -1, w["o_promised"]),
        shipped=np.where(w["o_shipped_known"], w["o_shipped"], -1),
        invoiced=np.where(w["o_invoiced_known"], w["o_invoiced"], -1),
    )


_ORDERS_SQL = f"""
    CASE WHEN bad = 1 THEN '' ELSE ws(printf('SO-%07d', id), ws) END AS "Order No",
    printf('C%06d', cust) AS "Customer",
    CASE WHEN bad = 2 THEN strftime(d(day), '%Y') || '-02-30'
         ELSE strftime(d(day), '%Y-%m-%d') END AS "Order Date",
    {lookup("rep", REPS)} AS "Sales Rep",
    {lookup("rep % 4", TEAMS)} AS "Sales Team",
    casev({lookup("status", ORDER_STATUS)}, "case") AS "Order Status",
    CASE WHEN bad = 3 THEN {lookup("garbage", GARBAGE)} ELSE money(amount) END AS "Net Amount",
    {lookup("ccy", CURRENCIES)} AS "Currency",
    {_date("promised")} AS "Promised Delivery",
    {_date("shipped")} AS "Ship Date",
    {_date("invoiced")} AS "Invoice Date\""""


def invoice_currency(w: dict) -> np.ndarray:
    """Return each invoice's currency (an index into ``CURRENCIES``): its customer's country's."""
    return COUNTRY_CURRENCY[w["c_country"][w["i_cust"]]]


def credit_notes(w: dict) -> np.ndarray:
    """Return the invoice indexes whose credit note is issued by the end date."""
    return np.flatnonzero(w["i_credit"] & (w["i_credit_day"] <= w["end"]))


def _invoice_columns(sim: Simulation) -> dict:
    """Invoices as the ERP shows them at the end date, then their credit notes, by issue day."""
    w, pay, end = sim.world, sim.payments, sim.world["end"]
    n_inv = len(w["i_day"])
    pay_before_end = np.bincount(pay["p_inv"], weights=pay["p_amount"], minlength=n_inv)
    credit_applied = np.where(w["i_credit"] & (w["i_credit_day"] <= end), w["i_credit_amount"], 0)
    settled_amount = np.round(pay_before_end + credit_applied, 2)
    fully = ~w["i_written_off"] & (w["i_settle"] <= end)
    written_off = w["i_written_off"] & (w["i_due"] + 180 <= end)
    disputed_now = w["i_disputed"] & (w["i_dispute_day"] <= end)
    status = np.select(  # an index into INVOICE_STATUS
        [written_off, w["i_full_credit"] & fully, fully, disputed_now, settled_amount > 0],
        [4, 5, 2, 3, 1],
        0,
    )
    cn = credit_notes(w)
    ccy = invoice_currency(w)
    n_cn = len(cn)
    inv_day = np.concatenate([w["i_day"], w["i_credit_day"][cn]])
    cols = dict(
        id=np.concatenate([np.arange(1, n_inv + 1), np.arange(1, n_cn + 1)]),
        is_cn=np.concatenate([np.zeros(n_inv, bool), np.ones(n_cn, bool)]),
        against=np.concatenate([np.full(n_inv, -1), cn + 1]),
        cust=np.concatenate([w["i_cust"], w["i_cust"][cn]]) + 1,
        so=np.concatenate([w["inv_order"], w["inv_order"][cn]]) + 1,
        day=inv_day,
        due=np.concatenate([w["i_due"], w["i_credit_day"][cn]]),
        amount=np.concatenate([w["i_amount"], -w["i_credit_amount"][cn]]),
        ccy=np.concatenate([ccy, ccy[cn]]),
        status=np.concatenate([status, np.full(n_cn, 5)]),
        paid=np.concatenate(
            [np.where(written_off, pay_before_end, settled_amount), -w["i_credit_amount"][cn]]
        ),
        paid_day=np.concatenate(
            [np.where(fully & ~written_off, w["i_settle"], -1), w["i_credit_day"][cn]]
        ),
        disputed=np.concatenate([disputed_now, np.zeros(n_cn, bool)]),
        terms=np.concatenate([w["i_terms"], w["i_terms"][cn]]),
    )
    order_rows = np.argsort(inv_day, kind="stable")
    return {k: v[order_rows] for k, v in cols.items()}


_INVOICES_SQL = f"""
    CASE WHEN bad = 1 THEN ''
         ELSE ws(CASE WHEN is_cn THEN printf('CN-%06d', id) ELSE printf('INV-%07d', id) END,
                 ws) END AS "Invoice No",
    ws(printf('C%06d', cust), ws AND bad = 0) AS "Customer",
    printf('SO-%07d', so) AS "Sales Order",
    CASE WHEN bad = 2 THEN '30/02/' || strftime(d(day), '%Y')
         ELSE strftime(d(day), '%d/%m/%Y') END AS "Posting Date",
    strftime(d(due), '%d/%m/%Y') AS "Due Date",
    CASE WHEN bad = 3 THEN {lookup("garbage", GARBAGE)} ELSE money(amount) END AS "Grand Total",
    casev({lookup("ccy", CURRENCIES)}, CASE WHEN "case" = 2 THEN 2 ELSE 0 END) AS "Currency",
    casev({lookup("status", INVOICE_STATUS)}, "case") AS "Status",
    money(paid) AS "Paid Amount",
    {_date("paid_day", "%d/%m/%Y")} AS "Payment Date",
    CASE WHEN disputed THEN 'Yes' ELSE 'No' END AS "In Dispute",
    'NET' || terms AS "Payment Terms",
    CASE WHEN against < 0 THEN '' ELSE printf('INV-%07d', against) END AS "Return Against\""""


def _payment_columns(sim: Simulation) -> dict:
    w, pay = sim.world, sim.payments
    return dict(
        id=np.arange(1, len(pay["p_inv"]) + 1),
        inv=pay["p_inv"] + 1,
        cust=w["i_cust"][pay["p_inv"]] + 1,
        day=pay["p_day"],
        amount=pay["p_amount"],
        ccy=invoice_currency(w)[pay["p_inv"]],
    )


_PAYMENTS_SQL = f"""
    CASE WHEN bad = 1 THEN '' ELSE ws(printf('PAY-%07d', id), ws) END AS "Payment Entry",
    printf('INV-%07d', inv) AS "Reference Invoice",
    printf('C%06d', cust) AS "Party",
    CASE WHEN bad = 2 THEN strftime(d(day), '%Y') || '-02-30'
         ELSE strftime(d(day), '%Y-%m-%d') END AS "Posting Date",
    CASE WHEN bad = 3 THEN {lookup("garbage", GARBAGE)}
         ELSE printf('%.2f', amount) END AS "Paid Amount",
    {lookup("ccy", CURRENCIES)} AS "Currency\""""


def _activity_columns(sim: Simulation) -> dict:
    w, act = sim.world, sim.activities
    inv = np.maximum(act["inv"], 0)
    return dict(
        id=np.arange(1, len(act["day"]) + 1),
        day=act["day"],
        minute=act["minute"],
        type=act["type"],
        outcome=act["outcome"],
        promised=act["promised"],
        inv=act["inv"],
        order=act["order"],
        cust=act["cust"] + 1,
        owner=np.where(act["owner_is_rep"], act["owner"] + len(COLLECTORS), act["owner"]),
        promised_amount=np.where(
            act["promised"] >= 0, w["i_cash_due"][inv] - w["i_first_amount"][inv], 0.0
        ),
    )


_ACTIVITIES_SQL = f"""
    CASE WHEN bad = 1 THEN '' ELSE ws(printf('ACT-%07d', id), ws) END AS "Activity ID",
    CASE WHEN bad = 2 THEN strftime(d(day), '%Y') || '-02-30 10:00'
         ELSE strftime(d(day) + to_minutes(minute::BIGINT), '%Y-%m-%d %H:%M') END AS "Timestamp",
    {lookup("owner", np.concatenate([COLLECTORS, REPS]))} AS "Assigned To",
    casev({lookup("type", ACTIVITY_TYPES)}, "case") AS "Activity Type",
    printf('C%06d', cust) AS "Customer",
    CASE WHEN inv < 0 THEN '' ELSE printf('INV-%07d', inv + 1) END AS "Invoice",
    CASE WHEN "order" < 0 THEN '' ELSE printf('SO-%07d', "order" + 1) END AS "Sales Order",
    {lookup("outcome", OUTCOMES)} AS "Outcome",
    {_date("promised")} AS "Promise Date",
    CASE WHEN promised < 0 THEN '' ELSE money(promised_amount) END AS "Promise Amount\""""


def _fx_columns(sim: Simulation) -> dict:
    """A daily random walk to USD for EUR and GBP (drawn now, after the other exports)."""
    start, end = sim.world["start"], sim.world["end"]
    n_days = end - start + 1
    steps = sim.rng.normal(0, 0.004, (2, n_days))
    eur = 1.08 * np.exp(np.cumsum(steps[0]))
    gbp = 1.27 * np.exp(np.cumsum(steps[1]))
    return dict(
        day=np.tile(np.arange(start, end + 1), 3),
        ccy=np.repeat(np.arange(3), n_days),
        rate=np.concatenate([np.ones(n_days), eur, gbp]),
    )


_FX_SQL = f"""
    strftime(d(day), '%Y-%m-%d') AS date, {lookup("ccy", CURRENCIES)} AS currency,
    printf('%.6f', rate) AS rate"""

_DAY_KEY_AMOUNT = ("blank_key", "impossible_date", "garbage_amount")

#: The files the demo writes, in the order it writes them (the order of the random draws).
EXPORTS: tuple[ExportSpec, ...] = (
    ExportSpec("customers.csv", _customer_columns, _CUSTOMERS_SQL, ("blank_key", "garbage_amount")),
    ExportSpec("orders.csv", _order_columns, _ORDERS_SQL, _DAY_KEY_AMOUNT),
    ExportSpec("invoices.csv", _invoice_columns, _INVOICES_SQL, _DAY_KEY_AMOUNT),
    ExportSpec("payments.csv", _payment_columns, _PAYMENTS_SQL, _DAY_KEY_AMOUNT),
    ExportSpec(
        "activities.csv", _activity_columns, _ACTIVITIES_SQL, ("blank_key", "impossible_date")
    ),
    ExportSpec("fx_rates.csv", _fx_columns, _FX_SQL, messy=False, order_by="day, ccy"),
)
