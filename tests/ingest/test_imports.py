"""What `salesops ingest` imports: loading a plain export needs neither pandas nor pandera, nor
any of the modelling and report libraries (each costs start-up time in every ingest)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "pandas",
    "pandera",
    "sklearn",
    "matplotlib",
    "papermill",
    "nbconvert",
    "openpyxl",
    "tqdm",
    "multiprocessing",
)

RUN = """
import json, sys
from salesops_analysis.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


def _ingest(tmp_path, name: str, text: str) -> dict:
    export = tmp_path / name
    export.write_text(text)
    code = f"HEAVY = {HEAVY!r}\n{RUN}"
    args = ["ingest", str(export), "--db", str(tmp_path / "data" / "w.duckdb")]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"out": proc.stdout}


def test_ingest_of_a_plain_invoices_export_imports_no_pandas_nor_pandera(tmp_path):
    rows = "".join(
        f"INV-{i},C{i % 7},2025-01-0{1 + i % 9},2025-02-0{1 + i % 9},{10 * i}.50,EUR\n"
        for i in range(1, 40)
    )
    bad = "INV-99,C1,not a date,2025-02-01,10.00,EUR\n"  # a reject, with its reason
    dup = "INV-1,C1,2025-01-02,2025-02-02,10.50,EUR\n"  # an exact duplicate of line 2
    text = "invoice_id,customer_id,invoice_date,due_date,amount,currency\n" + rows + bad + dup
    result = _ingest(tmp_path, "invoices.csv", text)
    assert result["code"] == 0
    assert "read 41 = loaded 39" in result["out"] and "rejected 1 + duplicates 1" in result["out"]
    assert result["heavy"] == []
