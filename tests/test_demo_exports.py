"""The demo's export specs and the one loop that writes them: messiness codes, the duplicate
join, the manifest entry, on empty, one-row and hand-made exports."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from salesops_analysis.demo import BAD_ROW_RATE, DUPLICATE_RATE, mess, write_export
from salesops_analysis.demo_exports import EXPORTS, SQL_HELPERS, ExportSpec, Simulation, lookup


def _spec(rows: dict, *, messy: bool = True) -> ExportSpec:
    key = (
        "CASE WHEN bad = 1 THEN '' ELSE printf('T%03d', id) END" if messy else "printf('T%03d', id)"
    )
    return ExportSpec(
        "things.csv",
        lambda sim: rows,
        f'{key} AS "Thing", money(amount) AS "Amount"',
        ("blank_key",) if messy else (),
        messy=messy,
        order_by="seq, k" if messy else "id",
    )


def _write(tmp_path, spec: ExportSpec, seed: int = 1) -> tuple[dict, pd.DataFrame]:
    sim = Simulation({}, {}, {}, np.random.default_rng(seed))
    con = duckdb.connect()
    con.execute(SQL_HELPERS)
    info = write_export(con, spec, sim, tmp_path)
    con.close()
    return info, pd.read_csv(tmp_path / spec.file, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("n", [0, 1])
def test_mess_on_empty_and_one_row(n):
    m = mess(np.random.default_rng(0), n, 3)
    assert all(len(v) == n for v in m.values())
    assert (m["copies"] == 1).all() and (m["bad"] == 0).all()  # 0.5% of one row rounds to none


def test_mess_duplicates_and_broken_rows_are_disjoint_and_at_their_rates():
    m = mess(np.random.default_rng(0), 10_000, 3)
    duplicated, broken = m["copies"] == 2, m["bad"] > 0
    assert duplicated.sum() == round(10_000 * DUPLICATE_RATE)
    assert broken.sum() == round(10_000 * BAD_ROW_RATE)
    assert not (duplicated & broken).any()
    assert set(np.unique(m["bad"][broken])) <= {1, 2, 3}
    assert m["seq"].tolist() == list(range(10_000))


def test_a_messy_export_repeats_its_duplicates_and_counts_them(tmp_path):
    rows = {"id": np.arange(1, 1001), "amount": np.full(1000, 1234.5)}
    info, back = _write(tmp_path, _spec(rows))
    assert info["rows"] == len(back) == 1000 + info["exact_duplicates"]
    keyed = back[back["Thing"] != ""]
    assert info["exact_duplicates"] == 5 and keyed.duplicated().sum() == 5
    assert (keyed["Thing"] == keyed["Thing"].shift()).sum() == 5  # each right after its original
    assert info["bad_rows"] == info["bad_rows_by_kind"]["blank_key"] == 3
    assert (back["Thing"] == "").sum() == 3  # written as an empty cell
    assert (back["Amount"] == "1,234.50").all()
    # the rows keep their order
    ids = keyed["Thing"].str[1:].astype(int).tolist()
    assert ids == sorted(ids)


@pytest.mark.parametrize("n", [0, 1])
def test_a_messy_export_of_no_or_one_row(tmp_path, n):
    rows = {"id": np.arange(1, n + 1), "amount": np.full(n, -120.0)}
    info, back = _write(tmp_path, _spec(rows))
    assert info == {
        "rows": n,
        "exact_duplicates": 0,
        "bad_rows": 0,
        "bad_rows_by_kind": {"blank_key": 0},
    }
    assert list(back.columns) == ["Thing", "Amount"]
    assert back["Amount"].tolist() == ["(120.00)"] * n


def test_a_clean_export_is_written_as_simulated(tmp_path):
    rows = {"id": np.array([2, 1]), "amount": np.array([5.0, 7.25])}
    info, back = _write(tmp_path, _spec(rows, messy=False))
    assert info == {"rows": 2, "exact_duplicates": 0, "bad_rows": 0, "bad_rows_by_kind": {}}
    assert back.values.tolist() == [["T001", "7.25"], ["T002", "5.00"]]


def test_the_specs_name_each_file_once_and_fx_rates_last():
    files = [spec.file for spec in EXPORTS]
    assert len(set(files)) == len(files) == 6
    assert files[-1] == "fx_rates.csv" and not EXPORTS[-1].messy
    assert all(spec.broken and spec.broken[0] == "blank_key" for spec in EXPORTS[:-1])


def test_lookup_maps_codes_to_labels_and_quotes_them():
    con = duckdb.connect()
    labels = lookup("c", ["a", "O'Neil"])
    got = con.sql(f"SELECT {labels} AS v FROM (VALUES (0), (1)) t(c)")
    assert [r[0] for r in got.fetchall()] == ["a", "O'Neil"]
