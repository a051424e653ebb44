"""Atomic file writes: write a temp file in the same folder, fsync, then ``os.replace``.

A crash (or ``kill -9``) at any moment leaves either the old file or the new
one, never a half-written one. Temp files are named ``.<name>.<random>.tmp``;
:func:`clean_stale` removes those left behind by a killed run.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

TMP_SUFFIX = ".tmp"


def write_bytes(path: Path | str, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text(path: Path | str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def clean_stale(folder: Path | str) -> int:
    """Remove temp files a killed run left in ``folder`` (not recursive beyond one level)."""
    removed = 0
    folder = Path(folder)
    for parent in (folder, folder / "feedback"):
        if not parent.is_dir():
            continue
        for p in parent.glob(f".*{TMP_SUFFIX}"):
            try:
                p.unlink()
                removed += 1
            except OSError:
                pass
    return removed
