"""``python -m salesops_analysis.cli``: the ``salesops`` command."""

from . import main

main()  # pragma: no cover
