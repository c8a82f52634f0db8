"""Cleaning rules: parsing, row-level rejects, duplicates, refusals."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from tests.conftest import write

INV_HEADER = "invoice_id,customer_id,invoice_date,due_date,amount,currency,status,paid_amount\n"


def clean(path, kind=None, cfg=None):
    return so.clean_file(path, kind, cfg or so.Config())


def reasons(result) -> dict[int, str]:
    r = result.rejects_frame
    return dict(zip(r["line"], r["reason"], strict=True))


def test_semicolon_file_with_decimal_commas(tmp_path):
    cfg = config_from_dict(
        {"kinds": {"invoices": {"decimal": ",", "thousands": ".", "day_first": True}}}
    )
    p = write(
        tmp_path / "invoices.csv",
        INV_HEADER.replace(",", ";")
        + "F1;K1;31.01.2025;02.03.2025;1.234,56;EUR;offen;0\n"
        + "F2;K1;01.02.2025;03.03.2025;(120,00);EUR;paid;-120,00\n",
    )
    cfg.kinds["invoices"].value_maps["status"]["offen"] = "open"
    result = clean(p, cfg=cfg)
    data = result.data
    assert data["amount"].tolist() == [1234.56, -120.0]
    assert data["invoice_date"].tolist() == [pd.Timestamp("2025-01-31"), pd.Timestamp("2025-02-01")]
    assert data["status"].tolist() == ["open", "paid"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234.50", 1234.5),
        ("(120.00)", -120.0),
        ("120.00-", -120.0),
        ("$ 99", 99.0),
        ("-5.5", -5.5),
        ("€1,000", 1000.0),
        ("0", 0.0),
    ],
)
def test_amount_formats(tmp_path, text, value):
    p = write(
        tmp_path / "payments.csv",
        f'payment_id,invoice_id,payment_date,amount\nP1,I1,2025-01-02,"{text}"\n',
    )
    assert clean(p).data["amount"].tolist() == [value]


@pytest.mark.parametrize("text", ["12..50", "N/A", "#VALUE!", "1,23,4", "abc"])
def test_garbage_amount_is_rejected_with_column_and_value(tmp_path, text):
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n"
        f'P1,I1,2025-01-02,"{text}"\nP2,I2,2025-01-02,5\n',
    )
    result = clean(p)
    rej = result.rejects_frame
    assert rej[["line", "column", "value", "reason"]].values.tolist() == [
        [2, "amount", text, "not an amount"]
    ]
    assert result.loaded == 1


def test_row_level_rules_each_reject_with_a_reason(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        INV_HEADER
        + "I1,C1,2025-01-10,2025-02-09,100,USD,open,0\n"  # good
        + "I2,C1,2025-02-30,2025-03-01,100,USD,open,0\n"  # impossible date
        + " ,C1,2025-01-10,2025-02-09,100,USD,open,0\n"  # blank key
        + "I4,C1,2025-01-10,2025-01-01,100,USD,open,0\n"  # due before invoice
        + "I5,C1,2025-01-10,2025-02-09,100,USD,paid,150\n"  # paid above amount
        + "I6,C1,2025-01-10,2025-02-09,100,XYZ,open,0\n"  # unknown currency
        + "I7,C1,2025-01-10,2025-02-09,100,USD,lost,0\n"  # unknown status
        + "I8,,2025-01-10,2025-02-09,100,USD,open,0\n",
    )  # missing customer
    result = clean(p)
    got = reasons(result)
    assert got[3].startswith("not a date")
    assert got[4] == "blank key"
    assert got[5] == "due date before invoice date"
    assert got[6] == "paid amount above invoice amount"
    assert got[7] == "unknown currency code"
    assert got[8].startswith("unknown status")
    assert got[9] == "missing value"
    assert result.loaded == 1 and result.rejected == 7
    assert result.rows_read == result.loaded + result.rejected + result.duplicates


def test_ids_are_stripped_statuses_case_folded_and_leading_zeros_kept(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        INV_HEADER + "  0000611365 ,c1 ,2025-01-10,2025-02-09,100,usd, PAID ,100\n",
    )
    data = clean(p).data
    assert data[["invoice_id", "customer_id", "currency", "status"]].values.tolist() == [
        ["0000611365", "c1", "USD", "paid"]
    ]


def test_exact_duplicates_are_counted_not_rejected(tmp_path):
    row = "P1,I1,2025-01-02,10\n"
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n" + row + row + row + "P2,I2,2025-01-02,20\n",
    )
    result = clean(p)
    assert (result.loaded, result.rejected, result.duplicates) == (2, 0, 2)


def test_only_lines_identical_in_every_column_are_duplicates(tmp_path):
    """Duplicates are looked for among the lines whose key text repeats (blank keys too)."""
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n"
        "P1,I1,2025-01-02,10\n"  # line 2
        "P2,I1,2025-01-02,10\n"  # as line 2 but for the key: loaded
        "P1,I1,2025-01-02,10\n"  # line 2 again: a duplicate
        ",I1,2025-01-02,10\n"  # no key: rejected
        ",I1,2025-01-02,10\n",  # line 5 again: a duplicate
    )
    result = clean(p)
    assert (result.loaded, result.rejected, result.duplicates) == (2, 1, 2)
    assert result.rejects_frame["line"].tolist() == [5]
    assert result.data["payment_id"].tolist() == ["P1", "P2"]


def test_same_key_different_content_last_line_wins(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n"
        "P1,I1,2025-01-02,10\nP2,I2,2025-01-02,20\np1,I1,2025-01-03,11\n",
    )
    result = clean(p)
    data = result.data.set_index("payment_id")
    assert data.loc["p1", "amount"] == 11.0 and "P1" not in data.index
    assert reasons(result) == {2: "superseded by line 4 (same key, later in the file)"}
    assert result.rows_read == 3 == result.loaded + result.rejected


def test_column_mapping_is_case_insensitive_and_keeps_extras(tmp_path):
    cfg = config_from_dict(
        {
            "kinds": {
                "payments": {
                    "columns": {
                        "receipt no": "payment_id",
                        "INVOICE": "invoice_id",
                        "Date": "payment_date",
                        "Value": "amount",
                        "Bank": "bank_account",
                    }
                }
            }
        }
    )
    p = write(
        tmp_path / "receipts.csv",
        "Receipt No,Invoice,Date,Value,Bank,Memo\nR1,I1,2025-01-02,10,DE01,x\n",
    )
    result = clean(p, "payments", cfg)
    assert result.data.columns.tolist()[:6] == [
        "payment_id",
        "invoice_id",
        "customer_id",
        "payment_date",
        "amount",
        "currency",
    ]
    assert result.data["bank_account"].tolist() == ["DE01"]
    assert result.ignored_columns == ["Memo"]
    assert result.data["currency"].tolist() == ["USD"]  # default currency


def test_missing_required_column_refuses_the_file(tmp_path):
    p = write(tmp_path / "payments.csv", "payment_id,invoice_id,amount\nP1,I1,10\n")
    with pytest.raises(so.FileRefusedError, match="required column payment_date missing") as e:
        clean(p)
    assert "payments.csv" in str(e.value)


def test_wrong_delimiter_shows_up_as_missing_columns_with_a_hint(tmp_path):
    p = write(tmp_path / "payments.csv", "payment_id invoice_id payment_date amount\nP1 I1 x 1\n")
    with pytest.raises(so.FileRefusedError, match="required columns .* missing"):
        clean(p)


def test_mostly_unparseable_column_is_a_format_problem(tmp_path):
    rows = "".join(f"P{i},I{i},{i:02d}/01/2025,10\n" for i in range(13, 31))
    p = write(tmp_path / "payments.csv", "payment_id,invoice_id,payment_date,amount\n" + rows)
    with pytest.raises(so.FileRefusedError) as e:
        clean(p)
    msg = str(e.value)
    assert "payment_date" in msg and "%m/%d/%Y" in msg and "date_formats" in msg


def test_derived_invoice_status_and_paid_amount(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,"
        "paid_date\nI1,C1,2025-01-01,2025-01-31,10,2025-01-20\nI2,C1,2025-01-01,2025-01-31,"
        "20,\n",
    )
    data = clean(p).data
    assert data["status"].tolist() == ["paid", "open"]
    assert data["paid_amount"].tolist() == [10.0, 0.0]
    assert data["disputed"].tolist() == [False, False]


def test_booleans_accept_common_words(tmp_path):
    rows = "".join(
        f"I{i},C1,2025-01-01,2025-01-31,10,{w}\n"
        for i, w in enumerate(["Yes", "no", "Y", "N", "TRUE", "false", "1", "0", "maybe"])
    )
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,disputed\n" + rows,
    )
    result = clean(p)
    assert result.data["disputed"].tolist() == [True, False] * 4
    assert reasons(result) == {10: "not a yes/no value"}


def test_configured_yes_no_words_true_first_and_none_at_all(tmp_path):
    """A word listed as both true and false reads as true; without any words every value that
    is filled is not a yes/no value."""
    head = "invoice_id,customer_id,invoice_date,due_date,amount,disputed\n"
    p = write(tmp_path / "invoices.csv", head + "I1,C1,2025-01-01,2025-01-31,10,Ja\n")
    both = config_from_dict(
        {"kinds": {"invoices": {"true_values": ["ja"], "false_values": ["JA"]}}}
    )
    assert clean(p, cfg=both).data["disputed"].tolist() == [True]
    none = config_from_dict({"kinds": {"invoices": {"true_values": [], "false_values": []}}})
    assert reasons(clean(p, cfg=none)) == {2: "not a yes/no value"}


# -- the accounting identity, for random mixes of rows ------------------------------------------
good_row = st.builds(
    lambda i, d, a: f"P{i},I{i},{(dt.date(2024, 1, 1) + dt.timedelta(days=d)).isoformat()},{a}",
    st.integers(0, 50),
    st.integers(0, 600),
    st.decimals(-1e6, 1e6, places=2).map(str),
)
bad_row = st.sampled_from(
    [
        ",I1,2025-01-01,1",
        "P9,I1,2025-02-30,1",
        "P9,I1,2025-01-01,x",
        "P9,I1,,1",
        "P9,I1,2025-01-01",
        "P9,I1,2025-01-01,1,extra",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.one_of(good_row, bad_row), min_size=1, max_size=40),
    dup_every=st.integers(1, 5),
)
def test_every_row_is_loaded_rejected_or_a_duplicate(tmp_path, rows, dup_every):
    lines = []
    for i, r in enumerate(rows):
        lines.append(r)
        if i % dup_every == 0:
            lines.append(r)
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n" + "\n".join(lines) + "\n",
    )
    result = clean(p)
    assert result.rows_read == len(lines)
    assert result.rows_read == result.loaded + result.rejected + result.duplicates
    assert result.rejects_frame["line"].nunique() == result.rejected
    assert result.data["payment_id"].str.lower().is_unique


def test_demo_exports_load_exactly_as_the_manifest_says(demo_raw, demo_manifest, demo_config):
    for kind in ["orders", "invoices", "payments", "activities", "customers"]:
        info = demo_manifest["files"][f"{kind}.csv"]
        result = so.clean_file(demo_raw / f"{kind}.csv", kind, demo_config)
        assert result.rows_read == info["rows"]
        assert result.duplicates == info["exact_duplicates"]
        assert result.rejected == info["bad_rows"]
