"""Reports a finance reader trusts at a glance: tables, changes, charts, the index, the layout.

The unit tests use small hand-made inputs; the rendered-HTML tests read the report.html of real
report runs (papermill + nbconvert) on the small demo warehouse.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesops_analysis.reports import charts, run_report
from salesops_analysis.reports import tables_view as tv
from salesops_analysis.reports.browser import find_chromium, page_size
from salesops_analysis.reports.daily import (
    HEADLINE_FIGURES,
    Figure,
    headline_changes,
    last_month_end,
)
from salesops_analysis.reports.index import (
    collect_reports,
    render_index,
    sparkline,
    write_index,
)
from tests.reports.conftest import DAY

BLANKS = {"NaN", "NaT", "None", "nan", "<NA>", "null"}


class _Page(HTMLParser):
    """The tables (header and cell texts) and images of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.images: list[dict] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = [tag]
        elif tag == "img":
            self.images.append(a)
        elif tag == "a":
            self.links.append(a.get("href", ""))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((self._cell[0], "".join(self._cell[1:]).strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if all(kind == "th" for kind, _ in self._row):
                self.tables[-1]["head"] = [text for _, text in self._row]
            else:
                self.tables[-1]["rows"].append([text for _, text in self._row])
            self._row = None


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


# -- changes vs the previous day and the last month-end -------------------------------------
FIGS = {
    "dso_countback": Figure("DSO", "days", "down"),
    "cash_collected": Figure("Cash", "amount", "up"),
    "ar_open": Figure("AR open", "amount"),
    "open_orders": Figure("Open orders", "count"),
    "orders_received": Figure("Orders received", "count", "up"),
}
TODAY = {
    "report_date": "2025-06-30",
    "dso_countback": 39.5,
    "cash_collected": 1000.0,
    "ar_open": 5000.25,
    "open_orders": 12,
    "orders_received": None,  # no orders export
}
YESTERDAY = {
    "report_date": "2025-06-29",
    "dso_countback": 40.0,
    "cash_collected": 1500.0,
    "ar_open": 4000.0,
    "open_orders": 12,
    "orders_received": None,
}
MONTH_END = {
    "report_date": "2025-05-31",
    "dso_countback": 38.2,
    "cash_collected": 250.5,
    "ar_open": None,  # not known then
    "open_orders": 9,
    "orders_received": None,
}


def test_changes_hand_computed_dso_down_is_good_cash_up_is_good():
    c = headline_changes(TODAY, YESTERDAY, MONTH_END, FIGS)
    dso = c["dso_countback"]
    assert dso["value"] == 39.5
    assert dso["previous_day"] == {
        "date": "2025-06-29",
        "value": 40.0,
        "delta": -0.5,
        "direction": "down",
        "better": True,
    }
    assert dso["month_end"]["delta"] == pytest.approx(1.3)
    assert dso["month_end"]["direction"] == "up" and dso["month_end"]["better"] is False
    cash = c["cash_collected"]
    assert cash["previous_day"]["delta"] == -500.0 and cash["previous_day"]["better"] is False
    assert cash["month_end"]["delta"] == 749.5 and cash["month_end"]["better"] is True


def test_changes_neutral_flat_and_missing_figures():
    c = headline_changes(TODAY, YESTERDAY, MONTH_END, FIGS)
    ar = c["ar_open"]["previous_day"]
    assert ar["delta"] == 1000.25 and ar["direction"] == "up" and ar["better"] is None
    assert c["ar_open"]["month_end"] == {
        "date": "2025-05-31",
        "value": None,
        "delta": None,
        "direction": None,
        "better": None,
    }
    flat = c["open_orders"]["previous_day"]
    assert flat["delta"] == 0 and flat["direction"] == "flat" and flat["better"] is None
    assert isinstance(c["open_orders"]["month_end"]["delta"], int)  # a count stays a count
    assert c["open_orders"]["month_end"]["delta"] == 3
    assert c["orders_received"]["previous_day"]["direction"] is None


def test_changes_of_figures_absent_today_are_left_out():
    assert headline_changes({"report_date": "2025-06-30"}, {}, {}, FIGS) == {}
    one = headline_changes({"report_date": "d", "ar_open": 1.0}, {}, {}, FIGS)
    assert list(one) == ["ar_open"]
    assert one["ar_open"]["previous_day"]["date"] is None


@pytest.mark.parametrize(
    "day, expected",
    [
        ("2025-06-30", "2025-05-31"),
        ("2025-06-01", "2025-05-31"),
        ("2025-03-15", "2025-02-28"),
        ("2024-03-01", "2024-02-29"),
        ("2025-01-10", "2024-12-31"),
    ],
)
def test_last_month_end_is_the_end_of_the_previous_month(day, expected):
    assert last_month_end(day) == pd.Timestamp(expected)


# -- the table helper ---------------------------------------------------------------------------
def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": ["INV-0001", "INV-0002", None],
            "customer_id": ["C1", "C2", "C9"],
            "due_date": pd.to_datetime(["2025-06-01", None, "2025-06-03"]),
            "open_amount": [1234567.891, np.nan, 5.0],
            "days_past_due": pd.array([3, None, 40], dtype="Int64"),
            "probability": [0.4567, np.nan, 0.1],
            "currency": ["USD", "USD", "USD"],
            "reason_1": ["paid late before", None, "x"],
        }
    )


def test_table_has_human_headers_blank_missing_values_and_formatted_numbers():
    page = _parse(tv.table(_frame(), currency="USD", customers=pd.Series({"C1": "Acme"})).html)
    (t,) = page.tables
    assert t["head"] == [
        "Invoice",
        "Customer id",
        "Customer",
        "Due date",
        "Open amount (USD)",
        "Days past due",
        "Probability",
        "Reason 1",
    ]
    assert t["rows"][0] == [
        "INV-0001",
        "C1",
        "Acme",
        "2025-06-01",
        "1,234,567.89",
        "3",
        "46%",
        "paid late before",
    ]
    assert t["rows"][1] == ["INV-0002", "C2", "", "", "", "", "", ""]
    assert t["rows"][2][0] == "" and t["rows"][2][2] == ""  # no name known: blank, not nan


def test_table_keeps_the_currency_column_when_rows_differ_and_drops_row_numbers():
    f = _frame().assign(currency=["USD", "EUR", "USD"])
    (t,) = _parse(tv.table(f, currency="USD").html).tables
    assert "Currency" in t["head"] and "Open amount" in t["head"]  # no single currency
    assert t["rows"][0][0] == "INV-0001"  # the 0..n index is not a column


def test_table_keeps_a_meaningful_index_and_shows_buckets_and_counts():
    aging = pd.DataFrame(
        {"current": [10.0, 2.5], "1_30": [1.0, 0.0], "90_plus": [0.0, 3.0], "total": [11.0, 5.5]},
        index=pd.Index(["EUR", "USD"], name="currency"),
    )
    (t,) = _parse(tv.table(aging).html).tables
    assert t["head"] == ["Currency", "Current", "1–30 days", "90+ days", "Total"]
    assert t["rows"][1] == ["USD", "2.50", "0.00", "3.00", "5.50"]
    counts = pd.DataFrame({"change": ["a"], "count": [356.0]})  # a float count
    (t,) = _parse(tv.table(counts).html).tables
    assert t["rows"] == [["a", "356"]]


def test_table_of_an_empty_frame_and_of_one_row():
    (t,) = _parse(tv.table(_frame().head(0), currency="USD").html).tables
    assert t["rows"] == [] and "Open amount (USD)" in t["head"]
    (t,) = _parse(tv.table(_frame().head(1)).html).tables
    assert len(t["rows"]) == 1
    assert _parse(tv.table(pd.DataFrame()).html).tables[0]["rows"] == []


def test_table_escapes_text_and_never_breaks_ids():
    f = pd.DataFrame({"invoice_id": ["<b>INV-1</b>"], "next_action": ["call & write"]})
    html = tv.table(f).html
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert '<td class="nowrap">&lt;b&gt;INV-1' in html
    assert '<td class="text">call &amp; write' in html


def test_table_writes_status_codes_as_words():
    f = pd.DataFrame({"status_on_day": ["on_hold"], "order_id": ["SO_1"]})
    (t,) = _parse(tv.table(f).html).tables
    assert t["rows"] == [["on hold", "SO_1"]]  # ids are never rewritten


def test_kpi_table_colours_changes_by_meaning_and_says_what_is_missing():
    c = headline_changes(TODAY, YESTERDAY, MONTH_END, FIGS)
    html = tv.kpi_table(c, FIGS, "USD", missing={"orders_received": "no orders export"}).html
    (t,) = _parse(html).tables
    assert t["head"] == [
        "Figure",
        "Today",
        "vs previous day (2025-06-29)",
        "vs month-end (2025-05-31)",
    ]
    rows = {r[0]: r[1:] for r in t["rows"]}
    assert rows["DSO"] == ["39.5 days", "▼ -0.5 days", "▲ +1.3 days"]
    assert rows["Open orders"] == ["12", "= no change", "▲ +3"]
    assert rows["Orders received"] == ["no orders export", "", ""]
    assert rows["AR open"][2] == "n/a"
    assert '<td class="num good">▼ -0.5 days' in html
    assert '<td class="num bad">▲ +1.3 days' in html
    tiles = tv.kpi_tiles(c, FIGS, "USD", ["dso_countback", "orders_received"]).html
    assert "39.5 days" in tiles and "Orders received" not in tiles  # no value, no tile


# -- charts ---------------------------------------------------------------------------------
def test_every_chart_has_a_title_and_alt_text_and_shows_as_an_img_with_it():
    charts.use_report_style()
    aging = pd.DataFrame(
        {"current": [1e4], "1_30": [2e3], "31_60": [40.0], "90_plus": [3e3], "total": [15040.0]}
    )
    trend = pd.DataFrame(
        {"ar_open": [1e6, 2e6], "dso_countback": [40.0, 38.5], "best_possible_dso": [30, 31]},
        index=pd.to_datetime(["2025-05-31", "2025-06-30"]),
    )
    figs = [
        charts.aging_bars(aging, "USD"),
        charts.trend_chart(trend, "USD"),
        charts.trend_chart(trend.head(0), "USD"),
        charts.rep_activity_chart(pd.DataFrame(columns=["owner", "type", "activities"])),
        charts.drift_chart(pd.DataFrame({"feature": ["a", "b"], "psi": [0.3, 0.01]})),
    ]
    for fig in figs:
        assert all(ax.get_title() for ax in fig.axes if ax.axison), fig
        assert len(charts.alt_text(fig)) > 20
    assert "1–30 2k, 31–60 40, 90+ 3k." in charts.alt_text(figs[0])
    assert [t.get_text() for t in figs[0].axes[0].get_xticklabels()] == [
        "Current",
        "1–30",
        "31–60",
        "90+",
    ]
    assert "from 40.0 to 38.5 days" in charts.alt_text(figs[1])
    assert len(figs[1].axes) == 2  # AR and DSO in two panels, not twin axes
    img = _parse(charts.image_html(figs[0])).images[0]
    assert img["src"].startswith("data:image/png;base64,")
    assert img["alt"] == charts.alt_text(figs[0])


@pytest.mark.parametrize(
    "name, label", [("1_30", "1–30"), ("90_plus", "90+"), ("current", "Current"), ("0_7", "0–7")]
)
def test_bucket_labels_are_human(name, label):
    assert charts.bucket_label(name) == label


# -- the index ------------------------------------------------------------------------------
def _publish(root: Path, day: str, report: str, metrics: dict | None, worklist=False) -> None:
    folder = root / day / report
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>")
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    if worklist:
        (folder / "worklist.xlsx").write_bytes(b"x")
        (folder / "worklist.csv").write_text("x")


def test_index_lists_dates_newest_first_with_links_figures_and_trends(tmp_path):
    dso = {"previous_day": {"delta": -0.4}}
    _publish(tmp_path, "2025-06-29", "daily-mis", {"currency": "USD", "ar_open": 100.0})
    _publish(
        tmp_path,
        "2025-06-30",
        "daily-mis",
        {
            "currency": "USD",
            "ar_open": 1234.5,
            "dso_countback": 39.5,
            "changes": {"dso_countback": dso},
        },
    )
    _publish(tmp_path, "2025-06-30", "collections", {"expected_late_amount": 77.0}, worklist=True)
    _publish(tmp_path, "2025-06-28", "collections", None)  # unreadable figures: still linked
    (tmp_path / "2025-06-27").mkdir()  # nothing published: not listed
    (tmp_path / "notes").mkdir()
    path = write_index(tmp_path)
    assert path == tmp_path / "index.html"
    page = _parse(path.read_text())
    (t,) = page.tables
    assert [r[0] for r in t["rows"]] == ["2025-06-30", "2025-06-29", "2025-06-28"]
    assert t["rows"][0][4] == "1,234" or t["rows"][0][4] == "1,235"
    assert t["rows"][0][6] == "▼ -0.4"
    assert t["rows"][0][9] == "77"
    assert "AR open (USD)" in t["head"]
    for link in (
        "2025-06-30/daily-mis/report.html",
        "2025-06-30/collections/report.html",
        "2025-06-30/collections/worklist.xlsx",
        "2025-06-30/collections/worklist.csv",
        "2025-06-29/daily-mis/report.html",
        "2025-06-28/collections/report.html",
    ):
        assert link in page.links
    assert all(not link.startswith(("/", "http", "file:")) for link in page.links)
    text = path.read_text()
    assert "<script" not in text and "<svg" in text and 'aria-label="AR open (USD)' in text
    assert not list(tmp_path.glob(".index.*.tmp"))


def test_index_of_nothing_and_of_one_date(tmp_path):
    assert "No report has been published yet" in write_index(tmp_path / "new").read_text()
    _publish(tmp_path, "2025-06-30", "daily-mis", {"ar_open": 1.0})
    assert [e.date for e in collect_reports(tmp_path)] == ["2025-06-30"]
    assert "one date so far" in render_index(collect_reports(tmp_path))


def test_sparkline_scales_values_and_skips_gaps():
    svg = sparkline([1.0, None, 3.0], "x", width=108, height=24)
    assert 'points="4.0,20.0 104.0,4.0"' in svg
    assert "no data so far" in sparkline([None], "x")


# -- the rendered HTML of real report runs --------------------------------------------------
PREV = str((pd.Timestamp(DAY) - pd.Timedelta(days=1)).date())


@pytest.fixture(scope="module")
def published(small_site, tmp_path_factory) -> Path:
    """Both reports of DAY and the daily MIS of the day before, run like `salesops report`."""
    out = tmp_path_factory.mktemp("published")
    common = dict(
        db_path=small_site / "data" / "salesops.duckdb",
        config_path=small_site / "salesops.yml",
        out=out,
        models_dir=out / "models",
        progress=False,
    )
    run_report("daily-mis", PREV, **common)
    for report in ("daily-mis", "collections"):
        run_report(report, DAY, **common)
    return out


def _pages(published: Path) -> dict[str, str]:
    return {
        r: (published / DAY / r / "report.html").read_text() for r in ("daily-mis", "collections")
    }


@pytest.mark.slow
def test_rendered_tables_read_like_finance_tables(published):
    for name, text in _pages(published).items():
        page = _parse(text)
        assert len(page.tables) >= 3, name
        for t in page.tables:
            assert not [h for h in t["head"] if "_" in h], (name, t["head"])
            cells = [c for row in t["rows"] for c in row]
            assert not BLANKS & set(cells), (name, t["head"])
            first = [row[0] for row in t["rows"] if row]
            if len(first) > 1:  # no 0..n row-number column
                assert first != [str(i) for i in range(len(first))], (name, t["head"])
        # no pandas table is left unformatted
        assert 'class="dataframe"' not in text, name


@pytest.mark.slow
def test_rendered_counts_have_no_decimals_and_amounts_carry_the_currency(published):
    pages = _pages(published)
    kpis = {
        r[0]: r[1]
        for t in _parse(pages["daily-mis"]).tables
        if t["head"][:2] == ["Figure", "Today"]
        for r in t["rows"]
    }
    integer = re.compile(r"^\d{1,3}(,\d{3})*$")
    for label in ("Orders received", "Open orders (backlog)", "Invoices issued", "Orders past SLA"):
        assert integer.match(kpis[label]), (label, kpis[label])
    assert kpis["AR open"].endswith(" USD")
    worklist = next(
        t for t in _parse(pages["collections"]).tables if t["head"] and t["head"][0] == "Rank"
    )
    assert "Open amount (USD)" in worklist["head"] and "Customer" in worklist["head"]
    assert [r[0] for r in worklist["rows"]][:3] == ["1", "2", "3"]
    assert '<td class="nowrap">INV-' in pages["collections"]  # ids never break


@pytest.mark.slow
def test_every_image_has_alt_text(published):
    for name, text in _pages(published).items():
        images = _parse(text).images
        assert images, name
        for img in images:
            assert img.get("alt", "").strip(), (name, img.get("alt"))
        assert "No description has been provided" not in text


@pytest.mark.slow
def test_metrics_changes_equal_the_previous_days_published_figures(published):
    today = json.loads((published / DAY / "daily-mis" / "metrics.json").read_text())
    before = json.loads((published / PREV / "daily-mis" / "metrics.json").read_text())
    assert set(today["changes"]) == set(HEADLINE_FIGURES)
    for key, change in today["changes"].items():
        prev = change["previous_day"]
        assert prev["date"] == PREV and prev["value"] == before[key]
        assert change["value"] == today[key]
        if today[key] is not None and before[key] is not None:
            assert prev["delta"] == pytest.approx(today[key] - before[key], abs=0.011)
    assert today["changes"]["dso_countback"]["month_end"]["date"] == "2025-05-31"
    col = json.loads((published / DAY / "collections" / "metrics.json").read_text())
    assert col["changes"]["ar_open"]["previous_day"]["value"] == pytest.approx(
        before["ar_open"], abs=0.01
    )


@pytest.mark.slow
def test_index_links_both_reports_of_each_date_and_reports_are_small(published):
    page = _parse((published / "index.html").read_text())
    assert f"{DAY}/daily-mis/report.html" in page.links
    assert f"{DAY}/collections/report.html" in page.links
    assert f"{DAY}/collections/worklist.xlsx" in page.links
    assert f"{PREV}/daily-mis/report.html" in page.links
    for link in page.links:
        assert (published / link).is_file(), link
    for name in ("daily-mis", "collections"):
        assert (published / DAY / name / "report.html").stat().st_size <= 3_000_000


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")
def test_reports_fit_1280_px_without_horizontal_page_scroll(published):
    pages = [published / DAY / r / "report.html" for r in ("daily-mis", "collections")]
    for page in [*pages, published / "index.html"]:
        width, height = page_size(page, 1280)
        assert width <= 1280, (page, width)
        assert height > 500


@pytest.mark.slow
def test_collections_changes_equal_the_earlier_days_own_figures(small_site, tmp_path):
    """With a model trained before both earlier dates, each comparison is what that day's own
    report gives (the same model scores it); without one, the expected late amount is n/a."""
    from click.testing import CliRunner

    from salesops_analysis.cli import main
    from salesops_analysis.reports import collections_report

    db, cfg = small_site / "data" / "salesops.duckdb", small_site / "salesops.yml"
    models = tmp_path / "models"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--as-of",
            "2025-05-15",
            "--db",
            str(db),
            "--config",
            str(cfg),
            "--out",
            str(models),
        ],
    )
    assert result.exit_code == 0, result.output
    today = collections_report(db, DAY, cfg, models_dir=models).metrics
    for which, day in (("previous_day", PREV), ("month_end", "2025-05-31")):
        then = collections_report(db, day, cfg, models_dir=models).metrics
        for key in ("ar_open", "open_invoices", "overdue_invoices", "expected_late_amount"):
            change = today["changes"][key][which]
            assert change["date"] == day
            assert change["value"] == pytest.approx(then[key], abs=0.01), (which, key)
            assert change["delta"] == pytest.approx(today[key] - then[key], abs=0.02)
    assert today["changes"]["expected_late_amount"]["month_end"]["better"] in (True, False, None)
    fresh = collections_report(db, DAY, cfg, models_dir=tmp_path / "none").metrics
    assert fresh["changes"]["expected_late_amount"]["previous_day"]["delta"] is None
    assert (
        fresh["changes"]["ar_open"]["previous_day"]["value"]
        == today["changes"]["ar_open"]["previous_day"]["value"]
    )
