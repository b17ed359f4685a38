"""`--out DIR` of every command names a directory; files written into it get fixed names and
appear whole (written beside, then renamed), replacing a previous file of that name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from study.errors import StudyError

# A path with one of these suffixes was meant as a file: `--out` names a directory.
_FILE_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet", ".txt", ".npz")


def output_dir(path: str | None, files: tuple[str, ...], flag: str = "--out") -> Path | None:
    """The directory `flag` names, created (None if not given); fails in one line, before any
    slow work, for a file path or an unwritable place. `files`: what the command writes in it."""
    if path is None:
        return None
    out = Path(path).expanduser()
    listed = ", ".join(files)
    if out.suffix.lower() in _FILE_SUFFIXES and not out.is_dir():
        raise StudyError(
            f"{flag} {path}: {flag} names a directory (the command writes {listed} into it); "
            f"pass a directory, e.g. {flag} {out.with_suffix('')}"
        )
    if out.exists() and not out.is_dir():
        raise StudyError(f"{flag} {path}: a file is in the way; {flag} names a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudyError(
            f"{flag} {path}: cannot create the directory ({exc.strerror}); choose a writable path"
        ) from None
    return out


def write_file(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary sibling of `path`, then rename it to `path`."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes it private; outputs are meant to be shared
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
