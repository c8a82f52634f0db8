"""`salesops daily --one-at-a-time`: the reports run one after the other (a big warehouse's
default: side by side, each kernel's tables would add up) and publish the same figures."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

import salesops_analysis as so
import salesops_analysis.cli.reports as cli_reports
from salesops_analysis.cli import main
from tests.reports.conftest import DAY


def _daily(site, out, *options: str):
    cwd = os.getcwd()
    os.chdir(site)
    try:
        return CliRunner().invoke(main, ["daily", "--date", DAY, "--out", str(out), *options])
    finally:
        os.chdir(cwd)


def _run_times(out, report: str) -> tuple[str, str]:
    """Return the start and end of a published notebook's execution (ISO times)."""
    nb = json.loads((out / DAY / report / "report.ipynb").read_text())
    times = nb["metadata"]["papermill"]
    return times["start_time"], times["end_time"]


def _metrics(out, report: str) -> dict:
    return json.loads((out / DAY / report / "metrics.json").read_text())


def test_one_at_a_time_publishes_what_side_by_side_does_in_order(small_site, tmp_path):
    apart, together = tmp_path / "apart", tmp_path / "together"
    result = _daily(small_site, apart, "--one-at-a-time")
    assert result.exit_code == 0, result.output
    lines = [line.split(":")[0] for line in result.output.splitlines()[1:]]
    assert lines == [f"daily-mis {DAY}", f"collections {DAY}"]
    # the second notebook started after the first one ended (papermill's own times)
    assert _run_times(apart, "daily-mis")[1] <= _run_times(apart, "collections")[0]
    result = _daily(small_site, together, "--side-by-side")
    assert result.exit_code == 0, result.output
    for report in ("daily-mis", "collections"):
        assert _metrics(apart, report) == _metrics(together, report), report


def test_the_default_is_side_by_side_up_to_the_invoice_limit(small_site, monkeypatch):
    db = str(small_site / "data" / "salesops.duckdb")
    assert cli_reports.side_by_side(db)  # a small demo
    with so.open_warehouse(db, read_only=True) as wh:
        invoices = wh.con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
    monkeypatch.setattr(cli_reports, "SIDE_BY_SIDE_INVOICES", invoices)
    assert cli_reports.side_by_side(db)
    monkeypatch.setattr(cli_reports, "SIDE_BY_SIDE_INVOICES", invoices - 1)
    assert not cli_reports.side_by_side(db)
    monkeypatch.setattr(cli_reports, "SIDE_BY_SIDE_INVOICES", 10**9)
    assert cli_reports.side_by_side(db)


def test_report_kernels_allocate_arrow_buffers_from_the_system(tmp_path):
    """The kernels hand a freed column's buffers back to the system (Arrow's own pool keeps
    them): their environment names the system pool."""
    from jupyter_client.blocking import BlockingKernelClient

    from salesops_analysis.reports.runner import KERNEL_ENVIRONMENT, ReportKernel

    assert KERNEL_ENVIRONMENT["ARROW_DEFAULT_MEMORY_POOL"] == "system"
    kernel = ReportKernel("daily-mis", cwd=tmp_path)
    try:
        kc = BlockingKernelClient()
        kc.load_connection_info(kernel.manager().get_connection_info())
        kc.start_channels()
        seen = []
        kc.execute_interactive(
            "import pyarrow; print(pyarrow.default_memory_pool().backend_name)",
            timeout=60,
            output_hook=lambda msg: seen.append(msg["content"].get("text", "")),
        )
        kc.stop_channels()
    finally:
        kernel.shutdown()
    assert "system" in "".join(seen)


def test_one_at_a_time_a_later_report_starts_its_kernel_when_its_turn_comes(
    small_site, tmp_path, monkeypatch
):
    """One after the other, the second report's kernel started ahead is let go before the
    first report runs (idle, it held 0.2 GiB beside the first report's peak): the second
    report starts its own. Side by side, both use the kernels started ahead."""
    import salesops_analysis.reports as reports

    real_run = reports.run_report
    runs = []

    def run_report(name, day, *, kernel=None, **kwargs):
        runs.append((name, kernel is not None))
        return real_run(name, day, kernel=kernel, **kwargs)

    monkeypatch.setattr(reports, "run_report", run_report)
    result = _daily(small_site, tmp_path / "apart", "--one-at-a-time")
    assert result.exit_code == 0, result.output
    assert runs == [("daily-mis", True), ("collections", False)]
    runs.clear()
    result = _daily(small_site, tmp_path / "together", "--side-by-side")
    assert result.exit_code == 0, result.output
    assert sorted(runs) == [("collections", True), ("daily-mis", True)]
