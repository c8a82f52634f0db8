"""`open_amount`: an invoice's balance due on the export's date, a canonical amount column."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from salesops_analysis.warehouse import SCHEMA_VERSION
from tests.conftest import write

HEADER = "invoice_id,customer_id,invoice_date,due_date,amount,balance\n"


def cfg(**columns):
    cols = {"Balance": "open_amount", **columns}
    return config_from_dict({"kinds": {"invoices": {"columns": cols, "default_currency": "USD"}}})


def clean(path, config):
    return so.clean_file(path, "invoices", config)


def rejects(result) -> list[tuple[int, str, str, str]]:
    r = result.rejects_frame
    return list(zip(r["line"], r["column"], r["value"], r["reason"], strict=True))


def test_a_balance_gives_the_paid_amount_and_is_stored_as_an_amount(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        HEADER
        + 'I1,C1,2025-01-02,2025-02-01,"$1,234.50",$234.50\n'
        + "I2,C1,2025-01-03,2025-02-02,100.00,100.00\n"
        + "I3,C1,2025-01-04,2025-02-03,80.00,0\n"
        + "CN1,C1,2025-01-05,2025-01-05,(400.00),(150.00)\n"
        + "CN2,C1,2025-01-06,2025-01-06,-50.00,0.00\n",
    )
    result = clean(p, cfg())
    assert result.rejected == 0 and result.loaded == 5
    data = result.data.set_index("invoice_id")
    assert "balance" not in data.columns and result.extra_columns == []
    assert str(result.table.schema.field("open_amount").type) == "decimal128(18, 2)"
    assert data["open_amount"].tolist() == [234.5, 100.0, 0.0, -150.0, 0.0]
    assert data["paid_amount"].tolist() == [1000.0, 0.0, 80.0, -250.0, -50.0]
    assert data["paid_date"].isna().all()  # not in the file: stays unknown
    assert data["status"].tolist() == ["partially_paid", "open", "paid", "partially_paid", "paid"]


def test_a_mapped_paid_date_is_kept_beside_a_balance(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        HEADER.replace("\n", ",settled\n")
        + "I1,C1,2025-01-02,2025-02-01,100.00,0,2025-01-20\n"
        + "I2,C1,2025-01-03,2025-02-02,100.00,40,\n",
    )
    data = clean(p, cfg(settled="paid_date")).data
    assert data["paid_date"].iloc[0] == pd.Timestamp("2025-01-20")
    assert pd.isna(data["paid_date"].iloc[1])
    assert data["paid_amount"].tolist() == [100.0, 60.0]
    assert data["status"].tolist() == ["paid", "partially_paid"]


def test_paid_and_open_amounts_both_mapped_must_agree_to_the_cent(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        HEADER.replace("\n", ",paid\n")
        + "I1,C1,2025-01-02,2025-02-01,100.00,40.00,60.00\n"
        + "I2,C1,2025-01-03,2025-02-02,100.00,40.00,60.01\n"
        + "I3,C1,2025-01-04,2025-02-03,-30.00,-10.00,-20.00\n",
    )
    result = clean(p, cfg(paid="paid_amount"))
    assert (result.loaded, result.rejected) == (2, 1)
    assert result.data["invoice_id"].tolist() == ["I1", "I3"]
    ((line, column, value, reason),) = rejects(result)
    assert (line, column, value) == (3, "open_amount", "40.00")
    assert "paid amount 60.01" in reason and "open amount 40.00" in reason
    assert "amount 100.00 - open amount = 60.00" in reason


@pytest.mark.parametrize(
    ("amount", "balance", "reason"),
    [
        ("100.00", "-5.00", "open amount of the opposite sign to the amount"),
        ("-100.00", "5.00", "open amount of the opposite sign to the amount"),
        ("100.00", "100.01", "open amount above invoice amount 100.00"),
        ("-100.00", "-150.00", "open amount above invoice amount -100.00"),
        ("100.00", "", "missing value (paid_amount is derived from open_amount)"),
        ("100.00", "abc", "not an amount"),
    ],
)
def test_a_balance_of_the_wrong_sign_or_size_is_rejected_once(tmp_path, amount, balance, reason):
    p = write(
        tmp_path / "invoices.csv",
        HEADER
        + "I0,C1,2025-01-01,2025-02-01,10.00,10.00\n"
        + f"I1,C1,2025-01-02,2025-02-01,{amount},{balance}\n",
    )
    result = clean(p, cfg())
    assert (result.rows_read, result.loaded, result.rejected) == (2, 1, 1)
    assert [(r[0], r[1], r[3]) for r in rejects(result)] == [(3, "open_amount", reason)]


def test_one_row_and_empty_files(tmp_path):
    one = clean(write(tmp_path / "one.csv", HEADER + "I1,C1,2025-01-02,2025-02-01,9,4\n"), cfg())
    assert one.data["paid_amount"].tolist() == [5.0]
    none = clean(write(tmp_path / "none.csv", HEADER + "I1,C1,2025-01-02,2025-02-01,9,10\n"), cfg())
    assert (none.rows_read, none.loaded, none.rejected) == (1, 0, 1)
    assert none.data.empty and "open_amount" in none.data.columns


def test_open_amount_is_loaded_into_the_warehouse_as_a_decimal(tmp_path):
    p = write(tmp_path / "invoices.csv", HEADER + "I1,C1,2025-01-02,2025-02-01,9.99,4.50\n")
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        so.ingest_file(wh, p, cfg(), kind="invoices")
        assert wh.table("invoices")["open_amount"].tolist() == [4.5]
        (typ,) = wh.con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'invoices_history' AND column_name = 'open_amount'"
        ).fetchall()[0]
        assert typ == "DECIMAL(18,2)"


def _as_version_3(path, texts: list[str]) -> None:
    """Make a warehouse look as version 3 left it: the balance kept as an extra text column."""
    with so.open_warehouse(path) as wh:
        con = wh.con
        con.execute("DROP VIEW invoices")
        con.execute("ALTER TABLE invoices_history DROP COLUMN open_amount")
        con.execute("ALTER TABLE invoices_history ADD COLUMN open_amount VARCHAR")
        for i, text in enumerate(texts):
            con.execute(
                "INSERT INTO invoices_history (invoice_id, customer_id, invoice_date, due_date, "
                "amount, currency, status, paid_amount, disputed, open_amount, _key, _valid_from) "
                "VALUES (?, 'C1', DATE '2025-01-01', DATE '2025-02-01', 2000, 'USD', 'open', 0, "
                "false, ?, ?, now())",
                [f"I{i}", text, f"i{i}"],
            )
        wh.refresh_view("invoices")
        con.execute("UPDATE _meta SET value = '3' WHERE key = 'schema_version'")


def test_a_version_3_warehouse_gets_its_text_balances_as_amounts(tmp_path):
    path = tmp_path / "w.duckdb"
    _as_version_3(path, ["$1,234.50", "(400.00)", "12.5-", None])
    with so.open_warehouse(path) as wh:
        version = wh.con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchall()
        assert version[0][0] == str(SCHEMA_VERSION) == "4"
        rows = wh.table("invoices").sort_values("invoice_id")
        assert rows["open_amount"].tolist()[:3] == [1234.5, -400.0, -12.5]
        assert rows["open_amount"].isna().tolist() == [False, False, False, True]
        assert "open_amount_text" not in rows.columns


def test_a_version_3_warehouse_keeps_balances_it_cannot_read_as_text(tmp_path):
    path = tmp_path / "w.duckdb"
    _as_version_3(path, ["1.234,50", "12.00"])  # a decimal comma: not guessed
    with so.open_warehouse(path) as wh:
        rows = wh.table("invoices").sort_values("invoice_id")
        assert rows["open_amount_text"].tolist() == ["1.234,50", "12.00"]
        assert rows["open_amount"].isna().all()
    con = duckdb.connect(str(path), read_only=True)
    try:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'invoices_history'"
            ).fetchall()
        )
    finally:
        con.close()
    assert types["open_amount"] == "DECIMAL(18,2)" and types["open_amount_text"] == "VARCHAR"


@pytest.mark.parametrize(
    ("name", "open_total", "paid_total"),
    [
        # hand-added from the files: Open Balance / Outstanding Amount / Amount Due / Balance
        ("quickbooks_ar_aging_detail.csv", 1532.27, 1000.00),
        ("erpnext_accounts_receivable.csv", 8440.00, 1000.00),
        ("odoo_invoices.xlsx", 18765.00, 3546.50),
        ("zoho_books_invoices.csv", 690.00, 1241.00),
    ],
)
def test_the_examples_load_their_balances_as_amounts(tmp_path, name, open_total, paid_total):
    from tests.ingest.test_examples import EXAMPLES, ingest

    rows, _ = ingest(tmp_path, "hand", EXAMPLES / name, (EXAMPLES / name).with_suffix(".yml"))
    assert rows["open_amount"].dtype == "float64" and rows["open_amount"].notna().all()
    # paid = amount - open, whether derived (no paid column) or checked (ERPNext has both)
    assert (rows["paid_amount"] - (rows["amount"] - rows["open_amount"])).abs().max() < 0.005
    assert "balance" not in {c.lower() for c in rows.columns}
    assert round(rows["open_amount"].sum(), 2) == open_total
    assert round(rows["paid_amount"].sum(), 2) == paid_total


@pytest.mark.parametrize(
    "header",
    [
        "Open Balance",
        "Balance",
        "Balance Due",
        "Amount Due",
        "Open Amount",
        "Outstanding",
        "Residual",
        "amount_residual",
        "Offener Betrag",
    ],
)
def test_inspect_proposes_open_amount_for_balance_headers(header):
    from salesops_analysis.ingest.guess_columns import match_names

    columns = ["Invoice No", "Customer", "Invoice Date", "Due Date", "Amount", header]
    mapping, _ = match_names(columns, "invoices")
    assert mapping["open_amount"] == header
    assert mapping["amount"] == "Amount"


def test_inspect_maps_a_balance_that_then_loads_as_an_amount(tmp_path):
    from salesops_analysis.ingest.inspect import inspect_export

    p = write(
        tmp_path / "invoices.csv",
        "Invoice No,Customer,Invoice Date,Due Date,Amount,Balance Due\n"
        + "".join(f"I{i},C1,2025-01-0{i},2025-02-0{i},100.00,{i * 10}.00\n" for i in range(1, 8)),
    )
    found = inspect_export(p)
    assert found.mapping["open_amount"] == "Balance Due"
    assert "rejected 0" in found.checked and "loaded 7" in found.checked
