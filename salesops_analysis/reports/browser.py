"""Look at the published reports as a reader does: headless Chromium, when it is installed.

Used by ``make screenshots`` (PNG of both reports and the index, for reviewing a change) and by
the layout test (a report must fit 1280 px without horizontal page scroll). Nothing here is
needed to produce a report; without Chromium, :func:`find_chromium` returns ``None``.

Run as ``python -m salesops_analysis.reports.browser [REPORTS_DIR] [OUT_DIR]``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "page_size", "screenshot", "screenshot_reports"]

_PROBE = (
    "<script>document.title='SIZE='+document.documentElement.scrollWidth+'x'"
    "+document.documentElement.scrollHeight;</script>"
)


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or ``None`` when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float = 120) -> str:
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install chromium)")
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    done = subprocess.run(
        [*base, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.stdout


def page_size(page: str | Path, width: int = 1280) -> tuple[int, int]:
    """Return ``(scroll width, scroll height)`` in CSS pixels of ``page`` rendered in a window
    ``width`` px wide: a scroll width above ``width`` means the page scrolls sideways."""
    page = Path(page)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / page.name
        text = page.read_text(encoding="utf-8")
        probe.write_text(text.replace("</body>", _PROBE + "</body>", 1), encoding="utf-8")
        dom = _run([f"--window-size={width},900", "--dump-dom", probe.resolve().as_uri()])
    m = re.search(r"SIZE=(\d+)x(\d+)", dom)
    if not m:
        raise RuntimeError(f"could not measure {page} in Chromium")
    return int(m[1]), int(m[2])


def screenshot(page: str | Path, png: str | Path, width: int = 1280) -> Path:
    """Render ``page`` whole (its full height) ``width`` px wide to ``png``; return its path."""
    _, height = page_size(page, width)
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            f"--window-size={width},{min(height, 16000)}",
            f"--screenshot={png}",
            Path(page).resolve().as_uri(),
        ]
    )
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot of {page}")
    return png


def screenshot_reports(reports_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Screenshot the index and both reports of the newest date under ``reports_dir``."""
    root = Path(reports_dir)
    dates = sorted(p.name for p in root.glob("????-??-??") if p.is_dir())
    pages = [(root / "index.html", "index.png")]
    if dates:
        for report in ("daily-mis", "collections"):
            pages.append((root / dates[-1] / report / "report.html", f"{report}.png"))
    return [screenshot(page, Path(out_dir) / name) for page, name in pages if page.is_file()]


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; say so and succeed without Chromium (nothing to do)."""
    args = sys.argv[1:] if argv is None else argv
    reports_dir = args[0] if args else "reports"
    out_dir = args[1] if len(args) > 1 else "screenshots"
    if find_chromium() is None:
        print("screenshots: Chromium is not installed (Debian: apt-get install chromium)")
        return 0
    written = screenshot_reports(reports_dir, out_dir)
    if not written:
        print(f"screenshots: no reports under {reports_dir}/ (run `make demo` first)")
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
