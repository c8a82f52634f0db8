"""Report folders and file names: a folder is replaced whole, staging starts empty."""

from __future__ import annotations

import os

import pandas as pd

from salesops_analysis.reports.files import (
    iso_dates,
    replace_folder,
    safe_file_names,
    staging_folder,
)


def test_replace_folder_swaps_the_whole_folder_and_leaves_nothing_beside(tmp_path):
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "paid_since.txt").write_text("old")
    new = tmp_path / "new"
    new.mkdir()
    (new / "C1.txt").write_text("new")
    replace_folder(new, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["C1.txt"]  # the old file is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["letters"]  # no .old-, no new


def test_replace_folder_publishes_a_first_folder(tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    replace_folder(new, tmp_path / "statements")
    assert (tmp_path / "statements").is_dir() and not new.exists()


def test_staging_folder_is_empty_beside_the_folder_named_by_the_pid(tmp_path):
    folder = tmp_path / "statements"
    first = staging_folder(folder)
    assert first == tmp_path / f".statements.tmp-{os.getpid()}"
    (first / "half_written.html").write_text("x")
    again = staging_folder(folder)  # a leftover of this process is emptied
    assert again == first and list(again.iterdir()) == []
    assert not folder.exists()  # nothing is published until replace_folder


def test_iso_dates_empty_one_and_missing():
    assert iso_dates(pd.Series([], dtype="datetime64[us]")) == []
    assert iso_dates(pd.Series(pd.to_datetime(["2025-06-30"]))) == ["2025-06-30"]
    assert iso_dates(pd.Series([pd.NaT, pd.Timestamp("2025-01-02 13:00")])) == ["", "2025-01-02"]


def test_safe_file_names_of_nothing_and_of_one_id():
    assert safe_file_names([]) == []
    assert safe_file_names(["C001"]) == ["C001"]
    assert safe_file_names(["index"]) == ["index-2"]  # the index page keeps its name
