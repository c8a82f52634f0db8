"""The real-data tests skip on a laptop without ../shared/realdata, and fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def _run_ibm_ingest_test(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SALESOPS_REALDATA": str(tmp_path / "nowhere")}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rsf",
            "-p",
            "no:cacheprovider",
            "tests/ingest/test_load.py::test_ibm_sample_loads_all_invoices_with_zero_rejects",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_real_data_skips_locally_and_fails_in_ci(tmp_path):
    local = _run_ibm_ingest_test(tmp_path, None)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "1 skipped" in local.stdout and "real data not present" in local.stdout
    ci = _run_ibm_ingest_test(tmp_path, "true")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    # a fixture that fails reports an error: the run fails either way (exit status 1)
    assert "1 error" in ci.stdout and "CI=true and real data not present" in ci.stdout
