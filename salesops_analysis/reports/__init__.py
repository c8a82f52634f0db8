"""Reports: the content (computed here), the notebooks that show it, and the runner."""

from .collections import CollectionsReport, collections_report
from .daily import DailyReport, daily_mis_report
from .excel import neutralize, write_worklist_csv, write_worklist_xlsx
from .runner import REPORTS, ReportRun, notebook_path, run_report

__all__ = [
    "REPORTS",
    "CollectionsReport",
    "DailyReport",
    "ReportRun",
    "collections_report",
    "daily_mis_report",
    "neutralize",
    "notebook_path",
    "run_report",
    "write_worklist_csv",
    "write_worklist_xlsx",
]
