"""The ``salesops`` command line.

Every command takes ``--db`` and ``--config``, exits 0 on success and non-zero with a one-line
reason on failure (``SALESOPS_DEBUG=1`` shows the traceback of an unexpected error).

Exit status (docs/scheduling.md says which a scheduler should retry): 0 success; 1 failure (a
refused export, a failing notebook, a bug); 2 usage (a bad option); 75 a temporary condition
(the warehouse or a report locked past ``--wait``, a full disk); 130 / 143 interrupted by
SIGINT / SIGTERM.

Layout: :mod:`.exports` (``demo``, ``inspect``, ``ingest``), :mod:`.models` (``train``,
``score``), :mod:`.reports` (``report``, ``daily``), :mod:`.accounts` (``statements``,
``forecast``); :mod:`.options` holds the shared options, :mod:`.errors` how a command fails.
Each command is thin: it parses, calls the package, and prints one line per result.
"""

from __future__ import annotations

import click

from .. import __version__
from . import accounts, exports, models, reports
from .errors import friendly_errors
from .exports import run_ingest
from .options import DATE, common, wait_option

__all__ = ["DATE", "common", "friendly_errors", "main", "run_ingest", "wait_option"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="salesops")
def main() -> None:
    """Sales-ops MIS and collections risk from ERP exports.

    \b
    Exit status: 0 done, 1 failure, 2 usage, 75 temporary condition (a lock held
    past --wait, a full disk: retry later), 130/143 interrupted by SIGINT/SIGTERM.
    """


for _command in (
    exports.demo,
    exports.ingest,
    exports.inspect,
    models.train,
    models.score,
    reports.report,
    reports.daily,
    accounts.statements,
    accounts.forecast,
):
    main.add_command(_command)
