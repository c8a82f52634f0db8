"""Value and file formats real exports use: month names, two-digit years, currency symbols,
parentheses, long ids, BOM, CRLF, a one-space header, payments without a payment id."""

from __future__ import annotations

import datetime as dt

import pytest

import salesops_analysis as so
from tests.conftest import write

PAY = "payment_id,invoice_id,payment_date,amount\n"


def one_payment(tmp_path, date="2025-01-02", amount="10", pid="P1"):
    p = write(tmp_path / "payments.csv", PAY + f'{pid},I1,"{date}","{amount}"\n')
    return so.clean_file(p, "payments", so.Config())


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Jan 28 2021", dt.date(2021, 1, 28)),
        ("Jan 8 2021", dt.date(2021, 1, 8)),
        ("Jan 28, 2021", dt.date(2021, 1, 28)),
        ("28-Nov-17", dt.date(2017, 11, 28)),
        ("28-Nov-2017", dt.date(2017, 11, 28)),
        ("December 19, 2020", dt.date(2020, 12, 19)),
        ("19 Dec 2020", dt.date(2020, 12, 19)),
        ("12/19/2020", dt.date(2020, 12, 19)),
        ("12/19/20", dt.date(2020, 12, 19)),
        # two-digit years pivot as POSIX strptime: 00-68 -> 20xx, 69-99 -> 19xx
        ("28-Nov-68", dt.date(2068, 11, 28)),
        ("28-Nov-69", dt.date(1969, 11, 28)),
    ],
)
def test_date_forms(tmp_path, text, day):
    result = one_payment(tmp_path, date=text)
    assert result.rejected == 0, result.rejects_frame
    assert result.data["payment_date"].iloc[0].date() == day


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$13.50 ", 13.5),
        (" $ 13.50", 13.5),
        ("($400.00)", -400.0),
        ("( $400.00 )", -400.0),
        ("-$1,234.56", -1234.56),
        ("€ 1,234", 1234.0),
        ("£12", 12.0),
    ],
)
def test_amount_forms(tmp_path, text, value):
    result = one_payment(tmp_path, amount=text)
    assert result.rejected == 0, result.rejects_frame
    assert result.data["amount"].iloc[0] == pytest.approx(value)


def test_a_two_digit_year_read_with_a_four_digit_format_is_rejected(tmp_path):
    cfg = so.config.config_from_dict({"kinds": {"payments": {"date_formats": ["%m/%d/%Y"]}}})
    p = write(tmp_path / "payments.csv", PAY + "P1,I1,12/19/20,10\n")
    result = so.clean_file(p, "payments", cfg)
    assert result.rejects_frame["reason"].str.startswith("date before 1900").tolist() == [True]


def test_nineteen_digit_ids_are_kept_exactly(tmp_path):
    result = one_payment(tmp_path, pid="1234567890123456789")
    assert result.data["payment_id"].tolist() == ["1234567890123456789"]


def test_bom_crlf_and_a_one_space_header(tmp_path):
    p = tmp_path / "payments.csv"
    p.write_bytes(
        "\ufeffpayment_id,invoice_id, ,payment_date,amount\r\n"
        "P1,I1,x,2025-01-02,10\r\nP2,I2,y,2025-01-03,20\r\n".encode()
    )
    result = so.clean_file(p, "payments", so.Config())
    assert result.data["payment_id"].tolist() == ["P1", "P2"]
    assert result.ignored_columns == ["(column 3)"]


def test_bom_above_a_title_block(tmp_path):
    p = tmp_path / "payments.csv"
    p.write_bytes(
        ("\ufeffReceipts\r\n" + PAY.replace("\n", "\r\n") + "P1,I1,2025-01-02,10\r\n").encode()
    )
    result = so.clean_file(p, "payments", so.Config())
    assert (result.loaded, result.skipped) == (1, 1)


def test_payments_without_payment_id_get_a_stable_derived_id(tmp_path):
    text = (
        "invoice_id,payment_date,amount\n"
        "I1,2025-01-02,10.00\nI2,2025-01-03,20.00\nI1,2025-01-09,10.00\n"
    )
    first = so.clean_file(write(tmp_path / "payments.csv", text), "payments", so.Config())
    ids = first.data["payment_id"].tolist()
    assert len(set(ids)) == 3 and all(i.startswith("PAY-") and len(i) == 20 for i in ids)
    # the same payments in a later export, reordered and with a new one: same ids
    later = (
        "invoice_id,payment_date,amount\nI3,2025-02-01,5\nI1,2025-01-09,10.00\nI1,2025-01-02,10\n"
    )
    again = so.clean_file(write(tmp_path / "payments2.csv", later), "payments", so.Config())
    by_key = dict(
        zip(
            again.data["invoice_id"] + again.data["payment_date"].astype(str),
            again.data["payment_id"],
            strict=True,
        )
    )
    assert by_key["I12025-01-09"] == ids[2] and by_key["I12025-01-02"] == ids[0]


def test_derived_ids_of_equal_payments_are_numbered(tmp_path):
    text = "invoice_id,payment_date,amount,memo\nI1,2025-01-02,10,a\nI1,2025-01-02,10,b\n"
    result = so.clean_file(write(tmp_path / "payments.csv", text), "payments", so.Config())
    a, b = result.data["payment_id"].tolist()
    assert b == a + "-2"
    assert result.loaded == 2


def test_payments_without_payment_id_reingest_is_a_no_op(tmp_path):
    p = write(tmp_path / "payments.csv", "invoice_id,payment_date,amount\nI1,2025-01-02,10\n")
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        assert so.ingest_file(wh, p, so.Config()).inserted == 1
        p2 = write(
            tmp_path / "payments_b.csv", "invoice_id,payment_date,amount\nI1,2025-01-02,10.00\n"
        )
        assert so.ingest_file(wh, p2, so.Config()).unchanged == 1
        assert len(wh.table("payments")) == 1
