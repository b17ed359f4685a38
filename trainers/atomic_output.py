"""Outputs that appear whole or not at all: a directory is built under a temporary sibling name and
renamed into place; an existing output is never replaced silently."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from trainers.errors import InputError


def check_output(out: str | Path, overwrite: bool = False) -> Path:
    """Fail early when `out` exists and may not be replaced."""
    out = Path(out).expanduser()
    if out.exists() and not overwrite:
        raise InputError(f"{out}: output already exists; choose another path or pass --overwrite")
    return out


@contextmanager
def atomic_dir(out: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of `out` to fill; it is renamed to `out` only if the block succeeds."""
    out = check_output(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        ancestor = next((p for p in out.parents if p.exists()), None)
        reason = f"{ancestor} is a file" if ancestor and not ancestor.is_dir() else exc.strerror
        raise InputError(
            f"{out}: cannot write output ({reason}); choose a writable directory"
        ) from None
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes it private; a corpus is shared data
        _move_into_place(tmp, out, overwrite)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, out: Path, overwrite: bool) -> None:
    old = None
    if overwrite and out.exists():
        old = out.parent / f".{out.name}.old-{tmp.name}"
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError:
        raise InputError(
            f"{out}: output appeared while writing (another process?); choose another path or "
            "pass --overwrite"
        ) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def cached_dir(target: str | Path, build: Callable[[Path], object]) -> Path:
    """`target`, built on first use: `build(tmp)` fills a private temporary sibling that is then
    renamed into place. Safe for concurrent builders: the first rename wins, later copies are
    discarded, so readers only ever see a whole one."""
    target = Path(target).expanduser()
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        os.rename(tmp, target)
    except OSError:
        if not target.is_dir():  # else another builder renamed its copy first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
