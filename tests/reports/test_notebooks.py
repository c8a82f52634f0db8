"""Notebooks are committed thin: a parameters cell, no outputs, ruff-clean."""

from __future__ import annotations

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "salesops_analysis" / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist_and_notebooks_dir_points_at_them():
    assert {p.stem for p in NOTEBOOKS} == {"daily_mis", "collections", "explore"}
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} == {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_and_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():  # literals only, each explained
        assert "=" in line and "#" in line, line
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
