"""SQL text helpers: quoting, and whether DuckDB keeps the order of the rows a statement reads."""

from __future__ import annotations

import duckdb
import pytest

from salesops_analysis.sql import keeps_order, quote_literal, quote_name


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE s AS SELECT range AS x, range % 3 = 0 AS flag FROM range(1000)")
    c.execute("CREATE TABLE h (x BIGINT)")
    yield c
    c.close()


def test_quoting_doubles_the_quote_characters():
    assert quote_name('a "b"') == '"a ""b"""'
    assert quote_literal("O'Neil") == "'O''Neil'"


@pytest.mark.parametrize(
    "select",
    [
        "SELECT x FROM s",
        "SELECT x FROM s WHERE NOT flag",
        "SELECT x + 1 AS x FROM (SELECT * FROM s WHERE x > 3)",
        "SELECT CASE x % 7 WHEN 1 THEN 0 WHEN 2 THEN 1 WHEN 3 THEN 2 ELSE x END FROM s",
    ],
)
def test_a_scan_with_filters_and_projections_keeps_the_order(con, select):
    assert keeps_order(con, f"CREATE TABLE t AS {select}")
    assert keeps_order(con, f"INSERT INTO h {select}")


@pytest.mark.parametrize(
    "select",
    [
        "SELECT x FROM s WHERE x NOT IN (SELECT 1)",
        # a long IN list is planned as a join: the trap a CASE avoids
        "SELECT x FROM s WHERE x % 11 IN (1, 2, 3, 4, 5, 6, 7, 8)",
        "SELECT row_number() OVER (PARTITION BY flag ORDER BY x) FROM s",
    ],
)
def test_a_join_or_a_window_may_reorder_the_rows(con, select):
    assert not keeps_order(con, f"CREATE TABLE t AS {select}")
    assert not keeps_order(con, f"INSERT INTO h {select}")


def test_the_statement_is_planned_not_run(con):
    assert keeps_order(con, "INSERT INTO h SELECT x FROM s WHERE x > $n", {"n": 5})
    assert con.execute("SELECT count(*) FROM h").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0] == 2
