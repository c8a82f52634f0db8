"""Summarize the last ``mutmut run`` as Markdown: the score per module and every survivor.

Run from the project folder after ``mutmut run`` (``make mutation`` does both)::

    python benchmarks/mutation_report.py > docs/mutation.md

A mutant is *killed* when a test fails with it, *timeout* when the tests hang with it (also
detected); *survived* and *no tests* (no selected test reaches the mutated function) are the
ones to read: each is either killed by a new test or written down as equivalent (a change no
caller can observe) in ``benchmarks/mutation_verdicts.json``.

A verdict is ``{"mutation": <the changed lines>, "reason": <why no caller can observe it>}``
under the mutant's name. mutmut numbers the mutants of a function in order, so an edit to the
function renumbers them: a verdict whose recorded lines differ from the mutant's lines now is
*stale* and counts as not judged until it is read again. A verdict on a mutant that a test
now kills was wrong (an equivalent mutant cannot be killed) and is listed as such.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Survivors read and judged by hand: mutant name (or a glob) -> why no test can kill it.
VERDICTS = Path(__file__).resolve().parent / "mutation_verdicts.json"
MUTMUT = Path(sys.executable).with_name("mutmut")
DETECTED = {"killed", "timeout", "caught by type check"}
PREFACE = [
    "How to read it:",
    "",
    "- The tests selected (`pytest_add_cli_args_test_selection`) are the ones on small "
    "hand-made books: they run in seconds, so every listed module is run in full. The tests "
    "that build the demo warehouse or train the demo model are left out; the worklist is "
    "reached through small books scored by the baseline or by a model trained on the "
    "254-invoice cash book in a second (`tests/risk/test_worklist_book.py`).",
    "- mutmut maps a test to the functions it calls, and a fixture shared by several tests "
    "(module or session scope) is counted for the first test that used it only: tests whose "
    "answers come from such a fixture would not be run against the mutants. The fixtures of "
    "the selected tests that call the mutated code are built per test for that reason.",
    "- A survivor is either killed by a test stated by hand, or judged equivalent in "
    "`benchmarks/mutation_verdicts.json` (the mutant's changed lines and why no caller can "
    "observe the change; `python benchmarks/mutation_report.py --judge NAME REASON` records "
    "one). A verdict whose lines no longer match the mutant (mutmut renumbers a function's "
    "mutants when it changes) counts as not judged until read again.",
    "- Results accumulate in `mutants/`: a run can be split by module "
    "(`make mutation MUTANTS='salesops_analysis.metrics.kpis*'`); after adding tests, re-run "
    "the survivors by name (mutmut keeps a result until the mutant is named again).",
    "",
]
MISSED = {"survived", "no tests"}


def _mutmut(*args: str) -> str:
    proc = subprocess.run(
        [str(MUTMUT), *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return proc.stdout


def results() -> dict[str, str]:
    """Return ``{mutant name: status}`` of every mutant of the last run."""
    out = {}
    for line in _mutmut("results", "--all", "true").splitlines():
        m = re.match(r"\s+(\S+): (.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def module_of(name: str) -> str:
    """Return the module a mutant name belongs to (``a.b.c.x_f__mutmut_3`` -> ``a.b.c``)."""
    return name.split(".x", 1)[0]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--note", default="", help="a paragraph on this run, under the title")
    parser.add_argument("--note-file", help="a Markdown file whose text goes under the title")
    parser.add_argument(
        "--judge",
        nargs=2,
        metavar=("MUTANT", "REASON"),
        help="record MUTANT as equivalent, with its changed lines and REASON, and exit",
    )
    args = parser.parse_args()
    if args.judge:
        judge(*args.judge)
        return
    if args.note_file:
        args.note = (args.note + "\n\n" + Path(args.note_file).read_text()).strip()
    status = results()
    if not status:
        raise SystemExit('no mutation results: run "mutmut run" first')
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    missed = sorted(n for n, s in status.items() if s in MISSED)
    diffs = {n: mutation_lines(n) for n in missed}
    judged = {n: _verdict(n, verdicts, diffs[n]) for n in missed}
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name, s in status.items():
        by_module[module_of(name)][s] += 1
        if s in MISSED and judged[name][0] == "equivalent":
            by_module[module_of(name)]["equivalent"] += 1
    lines = [
        "# Mutation testing",
        "",
        f"Last run: {dt.date.today().isoformat()}, mutmut over the modules that hold the money "
        "rules (`[tool.mutmut]` in pyproject.toml; `make mutation`, here under "
        "`flock /tmp/heavy.lock`). Each mutant runs only the selected tests that reach the "
        "mutated function.",
        "",
        *PREFACE,
        *([args.note, ""] if args.note else []),
        "| module | mutants | killed | timeout | survived (judged equivalent) | no tests | other "
        "| score | score without the equivalent |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    total = Counter()
    for module in sorted(by_module):
        c = by_module[module]
        total.update(c)
        lines.append(_row(module, c))
    lines.append(_row("**all**", total))
    unchecked = [m for m, c in sorted(by_module.items()) if c["not checked"] == sum(c.values())]
    partly = [
        f"{m} ({sum(c.values()) - c['not checked']} of {sum(c.values())})"
        for m, c in sorted(by_module.items())
        if 0 < c["not checked"] < sum(c.values())
    ]
    lines += [
        "",
        "Score = detected (killed, timeout) / (detected + survived + no tests); the second score "
        "leaves out the survivors judged equivalent below. Mutants the run did not check "
        "(other: not checked, or could not be run) are left out of both.",
    ]
    if unchecked or partly:
        lines += [
            "",
            "Not run in full: "
            + "; ".join(
                ([f"{', '.join(unchecked)} (none of their mutants)"] if unchecked else [])
                + ([f"only some mutants of {', '.join(partly)}"] if partly else [])
            )
            + ".",
        ]
    lines += [
        "",
        "## Survivors",
        "",
    ]
    open_ = [n for n in missed if judged[n][0] != "equivalent"]
    stale = [n for n in missed if judged[n][0] == "stale"]
    bugs = [n for n in missed if judged[n][0] == "bug"]
    lines.append(
        f"{len(missed)} survivors: {len(missed) - len(open_)} judged equivalent (a change no "
        f"caller can observe, reason given), {len(open_)} not judged yet (a test to write, "
        "or a reason to give in benchmarks/mutation_verdicts.json)"
        + (f", of which {len(stale)} have a stale verdict (the mutant changed)" if stale else "")
        + (
            f"; {len(bugs)} of them the fix of a bug the run found (see its verdict)"
            if bugs
            else ""
        )
        + "."
    )
    wrong = sorted(n for n in verdicts if n in status and status[n] in DETECTED)
    if wrong:
        lines += [
            "",
            f"Verdicts on mutants a test kills (wrong: remove them): {', '.join(wrong)}.",
        ]
    lines.append("")
    if not missed:
        lines.append("None.")
    for name in missed:
        kind, text = judged[name]
        verdict = {
            "equivalent": f"equivalent: {text}",
            "stale": f"not judged yet (stale verdict, for another mutation: {text})",
            "bug": f"not equivalent, not killed yet: {text}",
        }.get(kind, "not judged yet")
        lines += [f"### `{name}` ({status[name]})", "", f"Verdict: {verdict}", ""]
        lines += ["```diff", *diffs[name], "```", ""]
    print("\n".join(lines))


def judge(name: str, reason: str) -> None:
    """Record mutant ``name`` as equivalent in :data:`VERDICTS`, with its changed lines."""
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    verdicts[name] = {"mutation": "\n".join(mutation_lines(name)), "reason": reason}
    VERDICTS.write_text(
        json.dumps(dict(sorted(verdicts.items())), indent=1, ensure_ascii=False) + "\n"
    )


def mutation_lines(name: str) -> list[str]:
    """Return the removed and added lines of mutant ``name`` (what ``mutmut show`` prints,
    asked in this process: one ``mutmut show`` process per mutant takes a second)."""
    try:
        import os

        from mutmut.__main__ import find_mutant
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        here = os.getcwd()
        os.chdir(ROOT)
        try:
            diff = get_diff_for_mutant(name, path=find_mutant(name).path).splitlines()
        finally:
            os.chdir(here)
    except ImportError:
        diff = _mutmut("show", name).splitlines()
    return [d for d in diff if d.startswith(("+", "-")) and not d.startswith(("+++", "---"))]


def _verdict(name: str, verdicts: dict, lines: list[str]) -> tuple[str, str]:
    """Return ``("equivalent", reason)``, ``("stale", reason)`` (recorded for other changed
    lines) or ``("open", "")``."""
    v = verdicts.get(name)
    if v is None:
        return "open", ""
    if isinstance(v, str) or v.get("mutation") is None:
        return "stale", v if isinstance(v, str) else v["reason"]
    if v["mutation"] != "\n".join(lines):
        return "stale", v["reason"]
    if v.get("bug"):  # not equivalent: the mutant is the fix of a bug the run found
        return "bug", v["reason"]
    return "equivalent", v["reason"]


def _row(module: str, c: Counter) -> str:
    detected = sum(c[s] for s in DETECTED)
    missed = sum(c[s] for s in MISSED)
    total = sum(c.values()) - c["equivalent"]
    other = total - detected - missed
    score = f"{detected / (detected + missed):.1%}" if detected + missed else "–"
    real = detected + missed - c["equivalent"]
    adjusted = f"{detected / real:.1%}" if real else "–"
    return (
        f"| {module} | {total} | {c['killed']} | {c['timeout']} | {c['survived']} "
        f"({c['equivalent']}) | {c['no tests']} | {other} | {score} | {adjusted} |"
    )


if __name__ == "__main__":
    main()
