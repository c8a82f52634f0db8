"""Report files and folders: safe file names from ids, and folders replaced as a whole.

Statements and letters are written one file per customer. Their file names come from customer
ids by :func:`safe_file_names`; a full run writes into a :func:`staging_folder` beside the
published one and then :func:`replace_folder` swaps it in, so a reader never sees half a folder
and the files of customers that dropped out disappear.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["iso_dates", "replace_folder", "safe_file_names", "staging_folder"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}
_MAX_STEM = 80


def _id_hash(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]


def safe_file_names(ids: Iterable[str], *, reserved: Iterable[str] = ("index",)) -> list[str]:
    """Return one file stem per id: safe on every file system, never a path, all distinct.

    An id made only of ``A-Z a-z 0-9 . _ -`` (not starting with a dot, at most 80 characters,
    not a reserved device name) is its own stem. Any other id is transliterated to ASCII,
    its other characters become ``_``, and the first 8 hex digits of its SHA-1 are appended,
    so two ids that read alike (``a/b`` and ``a_b``) stay apart. Stems equal ignoring case
    (and the ``reserved`` stems) get ``-2``, ``-3``, ... in order.

    Examples
    --------
    >>> safe_file_names(["C001", "../etc/passwd", "Ünïcödé Co", "a b", "A B", "index"])
    ... # doctest: +NORMALIZE_WHITESPACE
    ['C001', 'etc_passwd-e96c47ea', 'Unicode_Co-16d2e239', 'a_b-7dbde935', 'A_B-8aabb8bc',
     'index-2']
    """
    used = {r.lower() for r in reserved}
    out = []
    for value in ids:
        text = "" if value is None else str(value)
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        stem = _UNSAFE.sub("_", ascii_text).strip("._-")[:_MAX_STEM] or "customer"
        if stem != text or stem.lower().split(".")[0] in _WINDOWS_RESERVED:
            stem = f"{stem}-{_id_hash(text)}"
        name, k = stem, 2
        while name.lower() in used:
            name = f"{stem}-{k}"
            k += 1
        used.add(name.lower())
        out.append(name)
    return out


def staging_folder(folder: str | Path) -> Path:
    """Return an empty folder beside ``folder`` to write a new version of it in.

    It is ``.<name>.tmp-<pid>`` (the name the stale-run cleanup knows); a leftover of this
    process is emptied first. Publish it with :func:`replace_folder`.
    """
    folder = Path(folder)
    staging = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def replace_folder(new: str | Path, folder: str | Path) -> None:
    """Put the folder ``new`` in place of ``folder``, then remove the old one.

    Two renames on one file system: a reader sees the old folder or the new one, never a
    mix. Between them the old folder is kept as ``.<name>.old-<pid>``.
    """
    new, folder = Path(new), Path(folder)
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(new, folder)
    if old.exists():
        shutil.rmtree(old)


def iso_dates(values: pd.Series) -> list[str]:
    """Return dates as ``YYYY-MM-DD`` text, missing dates as ``""``.

    >>> iso_dates(pd.Series(pd.to_datetime(["2025-06-30", None])))
    ['2025-06-30', '']
    """
    d = values.to_numpy(dtype="datetime64[D]")
    text = np.datetime_as_string(d, unit="D").astype(object)
    text[np.isnat(d)] = ""
    return text.tolist()
