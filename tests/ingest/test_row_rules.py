"""The row rules: the cheap bad-row flag states exactly the rules whose reasons are reported."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from salesops_analysis.ingest.row_rules import bad_row_sql, row_problems
from salesops_analysis.schemas import KINDS
from tests.conftest import write

CELLS = {
    "invoice_id": ["I1", "I2", "", " "],
    "customer_id": ["C1", "", "  "],
    "invoice_date": ["2025-01-02", "2025-02-30", "", "12/19/20", "0020-01-01"],
    "due_date": ["2025-02-01", "2024-12-01", "x", ""],
    "amount": ["100.00", "(40.00)", "1,2,3", "", "-5"],
    "currency": ["USD", "usd", "XXX", "", "EURO"],
    "status": ["open", "paid", "weird", ""],
    "paid_date": ["2025-01-20", "", "not a date"],
    "disputed": ["no", "yes", "maybe", ""],
    "balance": ["0", "50.00", "", "abc", "-10", "200"],
}


def _config(columns: list[str]):
    cols = {"balance": "open_amount"} if "balance" in columns else {}
    return config_from_dict({"kinds": {"invoices": {"columns": cols}}})


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.sets(st.sampled_from(["currency", "status", "paid_date", "disputed", "balance"])),
    rows=st.lists(
        st.fixed_dictionaries({c: st.sampled_from(v) for c, v in CELLS.items()}),
        min_size=1,
        max_size=25,
    ),
)
def test_rows_flagged_bad_are_exactly_the_rows_with_a_reason(tmp_path, columns, rows):
    header = ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", *sorted(columns)]
    text = ",".join(header) + "\n"
    text += "".join(",".join(f'"{r[c]}"' for c in header) + "\n" for r in rows)
    cfg = _config(header)
    cfg.kinds["invoices"].default_currency = None if "currency" in columns else "USD"
    try:  # clean_export itself checks that the flag and the reasons agree
        result = so.clean_file(write(tmp_path / "invoices.csv", text), "invoices", cfg)
    except so.FileRefusedError as exc:  # most values of a column unreadable: refused whole
        assert "values in column" in str(exc)
        return
    assert result.rows_read == result.loaded + result.rejected + result.duplicates + result.skipped
    reasons = result.rejects_frame
    assert reasons["line"].nunique() == result.rejected
    assert reasons["reason"].notna().all()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_flag_uses_every_cross_column_rule(kind):
    table = KINDS[kind]
    mapping = {f.name: f.name for f in table.fields}
    options = so.Config().kind(kind)
    present = set(mapping)
    flag = bad_row_sql(table, kind, mapping, present, options)
    for cond, column, *_ in row_problems(table, kind, mapping, present, options):
        if column not in table.key and " IS NULL" not in cond:
            assert cond in flag
