"""Line-level exports: one document built from its lines (sum, agreement, line ids)."""

from __future__ import annotations

import pytest

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from tests.conftest import write

ORD = "order_id,customer_id,order_date,amount,sku\n"


def cfg(kind="orders", **lines):
    return config_from_dict({"kinds": {kind: {"lines": lines or {"sum": ["amount"]}}}})


def test_lines_of_an_order_add_up_to_the_order(tmp_path):
    p = write(
        tmp_path / "orders.csv",
        ORD + "O1,C1,2025-01-02,10.00,A\nO2,C2,2025-01-03,5.00,A\n"
        "O1,C1,2025-01-02,20.00,B\nO1,C1,2025-01-02,30.50,C\n",
    )
    result = so.clean_file(p, "orders", cfg())
    data = result.data.set_index("order_id")
    assert data.loc["O1", "amount"] == 60.50 and data.loc["O2", "amount"] == 5.0
    assert (result.rows_read, result.loaded, result.rejected, result.documents) == (4, 4, 0, 2)


def test_without_lines_a_line_level_file_keeps_the_last_line_and_says_so(tmp_path):
    p = write(tmp_path / "orders.csv", ORD + "O1,C1,2025-01-02,10,A\nO1,C1,2025-01-02,20,B\n")
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        r = so.ingest_file(wh, p, so.Config())
    assert (r.loaded, r.rejected, r.superseded) == (1, 1, 1)
    assert "set kinds.orders.lines" in r.line()


def test_lines_that_disagree_reject_the_whole_document(tmp_path):
    p = write(
        tmp_path / "orders.csv",
        ORD + "O1,C1,2025-01-02,10,A\nO1,C9,2025-01-02,20,B\nO1,C1,2025-01-02,30,C\n"
        "O2,C2,2025-01-03,5,A\n",
    )
    result = so.clean_file(p, "orders", cfg())
    assert result.data["order_id"].tolist() == ["O2"]
    rejects = result.rejects_frame
    assert rejects["line"].tolist() == [2, 3, 4]
    assert set(rejects["column"]) == {"customer_id"}
    assert rejects["value"].tolist() == ["C1", "C9", "C1"]
    assert (
        rejects["reason"].iloc[0].startswith("lines 2, 3, 4 of order_id O1 disagree on customer_id")
    )
    assert result.rows_read == result.loaded + result.rejected == 4


def test_a_bad_line_keeps_its_document_out(tmp_path):
    p = write(tmp_path / "orders.csv", ORD + "O1,C1,2025-01-02,10,A\nO1,C1,2025-01-02,ten,B\n")
    result = so.clean_file(p, "orders", cfg())
    assert result.data.empty
    reasons = dict(zip(result.rejects_frame["line"], result.rejects_frame["reason"], strict=True))
    assert reasons[3] == "not an amount"
    assert reasons[2].startswith("line 3 of the same order_id was rejected")
    assert (result.loaded, result.rejected, result.documents) == (0, 2, 0)


def test_identical_lines_without_line_id_are_all_kept(tmp_path):
    p = write(tmp_path / "orders.csv", ORD + "O1,C1,2025-01-02,10,A\nO1,C1,2025-01-02,10,A\n")
    result = so.clean_file(p, "orders", cfg())
    assert (result.duplicates, result.loaded, result.documents) == (0, 2, 1)
    assert result.data["amount"].tolist() == [20.0]


def with_line_id() -> so.Config:
    """Orders summed by their lines, each line numbered in the column ``Line``."""
    return config_from_dict(
        {"kinds": {"orders": {"lines": {"sum": ["amount"]}, "columns": {"Line": "line_id"}}}}
    )


def test_line_id_tells_identical_lines_from_duplicates(tmp_path):
    p = write(
        tmp_path / "orders.csv",
        "order_id,customer_id,order_date,amount,Line\n"
        "O1,C1,2025-01-02,10,1\nO1,C1,2025-01-02,10,2\nO1,C1,2025-01-02,10,2\n",
    )
    result = so.clean_file(p, "orders", with_line_id())
    assert (result.duplicates, result.loaded, result.documents) == (1, 2, 1)
    assert result.data["amount"].tolist() == [20.0]
    assert "line_id" not in result.data.columns


def test_line_id_repeated_with_other_content_keeps_the_last_line(tmp_path):
    p = write(
        tmp_path / "orders.csv",
        "order_id,customer_id,order_date,amount,Line\n"
        "O1,C1,2025-01-02,10,1\nO1,C1,2025-01-02,15,1\nO1,C1,2025-01-02,1,2\n",
    )
    result = so.clean_file(p, "orders", with_line_id())
    assert result.data["amount"].tolist() == [16.0]
    assert result.rejects_frame["reason"].tolist() == [
        "superseded by line 3 (same line id, later in the file)"
    ]


def test_repeated_document_total_is_loaded_once(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,item\n"
        "I1,C1,2025-01-02,2025-02-01,100.00,A\nI1,C1,2025-01-02,2025-02-01,100.00,B\n"
        "I2,C1,2025-01-02,2025-02-01,50.00,A\nI2,C1,2025-01-02,2025-02-01,55.00,B\n",
    )
    result = so.clean_file(p, "invoices", cfg("invoices", sum=[]))
    assert result.data["amount"].tolist() == [100.0]
    assert result.rejects_frame["column"].unique().tolist() == ["amount"]
    assert (result.loaded, result.rejected, result.documents) == (2, 2, 1)


def test_derived_invoice_columns_are_derived_from_the_summed_document(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,paid_date\n"
        "I1,C1,2025-01-02,2025-02-01,60,2025-01-20\nI1,C1,2025-01-02,2025-02-01,40,2025-01-20\n",
    )
    data = so.clean_file(p, "invoices", cfg("invoices")).data
    assert data[["amount", "paid_amount", "status"]].values.tolist() == [[100.0, 100.0, "paid"]]


def test_line_level_ingest_logs_documents_beside_lines_and_reingest_is_a_no_op(tmp_path):
    p = write(
        tmp_path / "orders.csv",
        ORD + "O1,C1,2025-01-02,10,A\nO1,C1,2025-01-02,20,B\nO2,C1,2025-01-02,1,A\n",
    )
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        r = so.ingest_file(wh, p, cfg())
        assert (r.loaded, r.documents, r.inserted) == (3, 2, 2)
        assert "2 documents" in r.line()
        log = wh.ingest_log().iloc[0]
        assert (log.rows_read, log.rows_loaded, log.documents_loaded) == (3, 3, 2)
        assert so.ingest_file(wh, p, cfg()).status == "already ingested"
        assert sorted(wh.table("orders")["amount"].tolist()) == [1.0, 30.0]


def test_line_level_grand_total_ties_to_the_lines(tmp_path):
    p = write(
        tmp_path / "orders.csv",
        ORD + "O1,C1,2025-01-02,10,A\nO1,C1,2025-01-02,20,B\nTotal,,,30,\n",
    )
    assert so.clean_file(p, "orders", cfg()).skipped == 1
    bad = write(tmp_path / "orders2.csv", ORD + "O1,C1,2025-01-02,10,A\nTotal,,,31,\n")
    with pytest.raises(so.FileRefusedError, match="does not tie"):
        so.clean_file(bad, "orders", cfg())


def test_repeated_total_grand_total_counts_each_document_once(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount\n"
        "I1,C1,2025-01-02,2025-02-01,100\nI1,C1,2025-01-02,2025-02-01,100\n"
        "I2,C1,2025-01-02,2025-02-01,5\nTotal,,,,105\n",
    )
    assert so.clean_file(p, "invoices", cfg("invoices", sum=[])).documents == 2


def test_sum_of_an_unmapped_column_refuses_the_file(tmp_path):
    p = write(tmp_path / "orders.csv", ORD + "O1,C1,2025-01-02,10,A\n")
    with pytest.raises(so.FileRefusedError, match="lines.sum names 'quantity'"):
        so.clean_file(p, "orders", cfg(sum=["quantity"]))


def test_lines_option_is_validated():
    with pytest.raises(so.ConfigError, match="lines"):
        config_from_dict({"kinds": {"orders": {"lines": {"add": ["amount"]}}}})


def test_sum_of_a_text_column_refuses_the_file(tmp_path):
    p = write(tmp_path / "orders.csv", ORD + "O1,C1,2025-01-02,10,A\n")
    with pytest.raises(so.FileRefusedError, match="not an amount column"):
        so.clean_file(p, "orders", cfg(sum=["customer_id"]))
