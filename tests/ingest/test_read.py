"""Reading files: encodings, delimiters, workbooks, and files refused whole."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

import salesops_analysis as so
from salesops_analysis.ingest import read_export
from tests.conftest import write

HEADER = "payment_id,invoice_id,payment_date,amount\n"


def test_bom_is_stripped_from_the_first_header(tmp_path):
    p = write(tmp_path / "payments.csv", "\ufeff" + HEADER + "P1,I1,2025-01-02,10.00\n")
    raw = read_export(p)
    assert raw.columns[0] == "payment_id"
    assert raw.table.column("payment_id").to_pylist() == ["P1"]


def test_latin1_file_is_detected_and_decoded(tmp_path):
    p = write(
        tmp_path / "customers.csv",
        "customer_id,name\nC1,Société Générale\nC2,Müller\n",
        encoding="latin-1",
    )
    raw = read_export(p)
    assert raw.encoding == "cp1252"
    assert raw.table.column("name").to_pylist() == ["Société Générale", "Müller"]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, sep):
    p = write(
        tmp_path / "payments.csv",
        HEADER.replace(",", sep) + sep.join(["P1", "I1", "2025-01-02", "10,00"]) + "\n",
    )
    raw = read_export(p)
    assert raw.delimiter == sep
    assert raw.table.column("amount").to_pylist() == ["10,00"]


def test_quoted_fields_keep_delimiters_and_leading_zeros(tmp_path):
    p = write(tmp_path / "payments.csv", HEADER + 'P1,0000611365,2025-01-02,"1,234.50"\n')
    raw = read_export(p)
    assert raw.table.column("invoice_id").to_pylist() == ["0000611365"]
    assert raw.table.column("amount").to_pylist() == ["1,234.50"]


def test_ragged_line_is_reported_with_its_line_number(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        HEADER + "P1,I1,2025-01-02,10\nP2,I2,2025-01-03\nP3,I3,2025-01-04,30\n",
    )
    raw = read_export(p)
    assert raw.table.column("_line").to_pylist() == [2, 4]
    assert [(r.line, r.expected, r.actual) for r in raw.ragged] == [(3, 4, 3)]
    assert raw.rows_read == 3


def test_line_numbers_skip_blank_lines(tmp_path):
    p = write(tmp_path / "payments.csv", HEADER + "P1,I1,2025-01-02,10\n\nP3,I3,2025-01-04,30\n")
    assert read_export(p).table.column("_line").to_pylist() == [2, 4]


def test_xlsx_with_serial_and_typed_dates(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["payment_id", "invoice_id", "payment_date", "amount"])
    ws.append(["P1", "I1", 45658, 10.5])  # Excel serial for 2025-01-01
    ws.append(["P2", "I2", dt.datetime(2025, 1, 2), 20])
    wb.save(tmp_path / "payments.xlsx")
    raw = read_export(tmp_path / "payments.xlsx")
    assert raw.excel
    assert raw.table.column("payment_date").to_pylist() == ["45658", "2025-01-02"]
    assert raw.table.column("amount").to_pylist() == ["10.5", "20"]


def test_parquet_columns_are_read_as_text(tmp_path):
    pq.write_table(
        pa.table(
            {
                "payment_id": ["P1"],
                "invoice_id": ["I1"],
                "payment_date": pa.array([dt.date(2025, 1, 2)]),
                "amount": [10.25],
            }
        ),
        tmp_path / "payments.parquet",
    )
    raw = read_export(tmp_path / "payments.parquet")
    assert raw.table.column("payment_date").to_pylist() == ["2025-01-02"]
    assert raw.table.column("amount").to_pylist() == ["10.25"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("payments.csv", b"", "file is empty"),
        ("payments.csv", b"\x00\x01\x02binary\x00", "binary"),
        ("payments.csv", b"<!DOCTYPE html><html><body>Login</body></html>", "HTML"),
        ("payments.csv", b'payment_id,invoice_id\nP1,"I1\n', "unterminated quoted field"),
        ("payments.csv", b"payment_id,Payment_ID,amount\nP1,P1,1\n", "duplicate column name"),
        ("payments.csv", b"payment_id,invoice_id\n", "no data rows"),
        ("payments.xlsx", b"PK\x03\x04 not really a zip", "not a readable .xlsx"),
        ("payments.parquet", b"PAR1 garbage", "not a readable Parquet"),
        ("payments.xls", b"\xd0\xcf\x11\xe0", "old .xls"),
    ],
)
def test_unreadable_files_are_refused_whole_with_the_file_named(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(so.FileRefusedError, match=message) as info:
        read_export(p)
    assert str(p) in str(info.value)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(so.FileRefusedError, match="file not found"):
        read_export(tmp_path / "nope.csv")


def test_a_line_break_inside_a_quoted_value_keeps_later_line_numbers_exact(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        'payment_id,invoice_id,payment_date,amount\nP1,"I\n1",2025-01-02,10\nP2,I2,2025-01-03,x\n',
    )
    raw = read_export(p)
    assert raw.table.column("_line").to_pylist() == [2, 4]
    result = so.clean_file(p, "payments", so.Config())
    assert result.rejects_frame["line"].tolist() == [4]


def test_line_endings_alone_do_not_move_line_numbers(tmp_path):
    for ending in ("\n", "\r\n", "\r"):
        text = ending.join(["payment_id,invoice_id,payment_date,amount", "P1,I1,2025-01-02,x"])
        p = tmp_path / f"payments_{len(ending)}{ending == chr(13)}.csv"
        p.write_bytes((text + ending).encode())
        assert read_export(p).table.column("_line").to_pylist() == [2]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'"',
        b"a",
        b'a,"b",c\n"d"\n',
        b'"' * ((1 << 22) + 1) + b"\n" * 3,  # across the blocks compared at a time
    ],
)
def test_count_byte_counts_as_bytes_count(data):
    from salesops_analysis.ingest.read import count_byte

    assert count_byte(data, b'"') == data.count(b'"')
    assert count_byte(data, b"\n") == data.count(b"\n")
