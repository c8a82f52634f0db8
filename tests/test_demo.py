"""The demo generator: deterministic, realistic, and messy in the documented ways."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.demo import BAD_ROW_RATE, DUPLICATE_RATE


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path):
    so.generate_demo(tmp_path / "a", seed=3, scale=3000)
    so.generate_demo(tmp_path / "b", seed=3, scale=3000)
    so.generate_demo(tmp_path / "c", seed=4, scale=3000)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["invoices.csv"] != _digest(tmp_path / "c")["invoices.csv"]


def test_writes_all_five_exports_and_fx_rates(demo_raw):
    names = {p.name for p in demo_raw.iterdir()}
    for kind in ["orders", "invoices", "payments", "activities", "customers", "fx_rates"]:
        assert f"{kind}.csv" in names


def test_default_size_is_about_fifty_thousand_invoices(demo_manifest):
    assert 45_000 <= demo_manifest["truth"]["invoices"] <= 55_000
    assert 1_500 <= demo_manifest["truth"]["customers"] <= 2_500


@pytest.mark.parametrize("name", ["orders", "invoices", "payments", "activities", "customers"])
def test_duplicate_and_bad_row_rates(demo_manifest, demo_raw, name):
    info = demo_manifest["files"][f"{name}.csv"]
    unique = info["rows"] - info["exact_duplicates"]
    assert info["exact_duplicates"] == pytest.approx(unique * DUPLICATE_RATE, abs=1)
    assert info["bad_rows"] == pytest.approx(unique * BAD_ROW_RATE, abs=1)
    raw = pd.read_csv(demo_raw / f"{name}.csv", dtype=str, keep_default_na=False)
    assert len(raw) == info["rows"]
    assert raw.duplicated().sum() == info["exact_duplicates"]


def test_erp_headers_and_formatted_amounts(demo_raw):
    inv = pd.read_csv(demo_raw / "invoices.csv", dtype=str, keep_default_na=False)
    assert "Grand Total" in inv.columns and "invoice_id" not in inv.columns
    assert inv["Grand Total"].str.contains(",").any()  # 1,234.50
    assert inv["Grand Total"].str.match(r"^\(\d").any()  # credit notes as (120.00)
    assert (inv["Invoice No"] != inv["Invoice No"].str.strip()).any()  # stray spaces
    statuses = set(inv["Status"])
    assert {"Paid", "PAID", "paid"} <= statuses  # mixed case
    assert inv["Currency"].str.upper().isin(["USD", "EUR", "GBP"]).all()


def _invoices(demo_raw):
    inv = pd.read_csv(demo_raw / "invoices.csv", dtype=str, keep_default_na=False)
    inv = inv[inv["Invoice No"].str.strip().str.startswith("INV")]
    inv = inv.assign(
        customer=inv["Customer"].str.strip(),
        issued=pd.to_datetime(inv["Posting Date"], format="%d/%m/%Y", errors="coerce"),
        due=pd.to_datetime(inv["Due Date"], format="%d/%m/%Y"),
        paid=pd.to_datetime(inv["Payment Date"], format="%d/%m/%Y", errors="coerce"),
    )
    return inv.dropna(subset=["issued"]).drop_duplicates()


def test_chronic_late_payers_really_pay_later(demo_raw, demo_manifest):
    inv = _invoices(demo_raw)
    settled = inv.dropna(subset=["paid"])
    days_late = (settled["paid"] - settled["due"]).dt.days
    chronic = settled["customer"].isin(demo_manifest["truth"]["chronic_customers"])
    late_share_chronic = (days_late[chronic] > 0).mean()
    late_share_other = (days_late[~chronic] > 0).mean()
    assert late_share_chronic > late_share_other + 0.25
    assert days_late[chronic].mean() > days_late[~chronic].mean() + 10


def test_drifting_customers_pay_later_over_time(demo_raw, demo_manifest):
    inv = _invoices(demo_raw).dropna(subset=["paid"])
    drift = inv[inv["customer"].isin(demo_manifest["truth"]["drifting_customers"])]
    late = (drift["paid"] > drift["due"]).astype(float)
    first_year = drift["issued"] < pd.Timestamp(demo_manifest["start"]) + pd.Timedelta(days=365)
    assert late[~first_year].mean() > late[first_year].mean() + 0.1


def test_every_payment_matches_an_invoice(demo_raw, demo_manifest):
    inv = pd.read_csv(demo_raw / "invoices.csv", dtype=str, keep_default_na=False)
    pay = pd.read_csv(demo_raw / "payments.csv", dtype=str, keep_default_na=False)
    refs = pay["Reference Invoice"].str.strip()
    unmatched = set(refs[~refs.isin(set(inv["Invoice No"].str.strip()))])
    # only invoices whose key the generator blanked on purpose can be missing
    blanked = demo_manifest["files"]["invoices.csv"]["bad_rows_by_kind"]["blank_key"]
    assert len(unmatched) <= blanked
    assert (refs.isin(set(inv["Invoice No"].str.strip()))).mean() > 0.995


def test_payments_never_exceed_invoice_amount(demo_raw):
    inv = pd.read_csv(demo_raw / "invoices.csv", dtype=str, keep_default_na=False)
    pay = pd.read_csv(demo_raw / "payments.csv", dtype=str, keep_default_na=False)
    pay = pay.drop_duplicates()
    amount = pd.to_numeric(inv["Grand Total"].str.replace(",", ""), errors="coerce")
    inv_amount = pd.Series(amount.to_numpy(), index=inv["Invoice No"].str.strip())
    inv_amount = inv_amount[~inv_amount.index.duplicated()]
    paid = (
        pd.to_numeric(pay["Paid Amount"], errors="coerce").groupby(pay["Reference Invoice"]).sum()
    )
    both = pd.concat([paid, inv_amount], axis=1, join="inner").dropna()
    assert (both.iloc[:, 0] <= both.iloc[:, 1] + 0.01).all()


def test_realism_features_present(demo_raw):
    inv = _invoices(demo_raw)
    assert set(inv["Payment Terms"]) == {"NET15", "NET30", "NET45", "NET60"}
    assert (inv["In Dispute"] == "Yes").mean() > 0.01
    act = pd.read_csv(demo_raw / "activities.csv", dtype=str, keep_default_na=False)
    assert (act["Outcome"] == "Promise to Pay").sum() > 100
    orders = pd.read_csv(demo_raw / "orders.csv", dtype=str, keep_default_na=False)
    assert 0.03 < (orders["Promised Delivery"] == "").mean() < 0.10
    assert orders["Sales Team"].nunique() == 4
    cn = pd.read_csv(demo_raw / "invoices.csv", dtype=str, keep_default_na=False)
    assert cn["Invoice No"].str.strip().str.startswith("CN").sum() > 100


def test_orders_cluster_at_quarter_end(demo_raw):
    orders = pd.read_csv(demo_raw / "orders.csv", dtype=str, keep_default_na=False)
    day = pd.to_datetime(orders["Order Date"], errors="coerce").dropna()
    days_left = ((day + pd.offsets.QuarterEnd(0)) - day).dt.days
    # the last 3 days of a quarter are ~3.3% of the calendar but hold clearly more orders
    assert (days_left <= 2).mean() > 0.07


def test_customer_history_heuristic_is_learnable_but_not_trivial(demo_raw):
    """The prior late share of a customer ranks later invoices with AUC in 0.70-0.85."""
    from sklearn.metrics import roc_auc_score

    inv = _invoices(demo_raw)
    end = inv["issued"].max()
    inv = inv[inv["paid"].notna() | (inv["due"] < end)].sort_values("issued")
    inv["late"] = np.where(inv["paid"].notna(), inv["paid"] > inv["due"], True)
    inv["settled"] = inv["paid"].fillna(end + pd.Timedelta(days=1))
    ev = inv[["customer", "settled", "late"]].sort_values("settled")
    ev["n"] = ev.groupby("customer").cumcount() + 1
    ev["n_late"] = ev.groupby("customer")["late"].cumsum()
    q = inv[["customer", "issued"]].reset_index()
    m = pd.merge_asof(
        q.sort_values("issued"),
        ev.rename(columns={"settled": "issued"}),
        on="issued",
        by="customer",
        allow_exact_matches=False,
    )
    m = m.set_index("index").loc[inv.index]
    share = (m["n_late"].fillna(0) + 0.3) / (m["n"].fillna(0) + 1)
    cut = int(len(inv) * 0.7)
    auc = roc_auc_score(inv["late"].iloc[cut:], share.iloc[cut:])
    assert 0.70 <= auc <= 0.85


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(so.SalesOpsError, match="scale"):
        so.generate_demo(tmp_path, scale=10)
