"""Atomic, durable writes and portable locks: the one implementation every module uses.

* ``atomic_file(final)`` yields a temporary path beside ``final``; when the block completes
  the file is flushed to disk (``fsync``) and renamed over ``final`` (atomic on one
  filesystem), and the folder entry is flushed too. On any exception, Ctrl-C included, the
  temporary file is removed and ``final`` is untouched. Temporaries of the same file left
  by a killed writer (older than ``ABANDONED_AFTER_S``) are removed by the next write.
* ``atomic_folder(final)`` does the same for a folder, holding a lock (``writer_lock``)
  while it is written, so that ``remove_abandoned`` takes only folders of dead writers.
* ``lock(path)`` and ``writer_lock(path)``: ``filelock`` locks (``flock`` on POSIX,
  ``msvcrt`` on Windows), released when the process ends, however it ends.

Disk-full and other write errors that name no file (Arrow's, ``fsync``'s) are raised again
naming the file or folder being written, so that the user knows where.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import filelock

TMP_PREFIX = ".tmp-"
LOCK_SUFFIX = ".lock"
ABANDONED_AFTER_S = 60.0  # a temporary untouched this long, and unlocked, is abandoned


class Busy(RuntimeError):
    """A lock held by another process (``lock(..., wait=False)``)."""


def temporary_name(final: Path) -> Path:
    """A fresh hidden temporary path beside ``final``."""
    return final.parent / f"{TMP_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk (where the platform allows it)."""
    if os.name != "posix":  # pragma: no cover - Windows cannot open a folder
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


def _sync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _named(err: OSError, where: Path) -> OSError:
    """``err`` again, naming ``where`` if it names no file (``[Errno 28]`` alone says
    nothing of which file could not be written)."""
    if getattr(err, "filename", None):
        return err
    code = err.errno or (errno.ENOSPC if "No space left" in str(err) else None)
    reason = os.strerror(code) if code else str(err).strip().splitlines()[0]
    return OSError(code, f"{reason} (writing)", str(where))


def remove_stale_temporaries(final: Path, older_than_s: float = ABANDONED_AFTER_S) -> None:
    """Remove temporary files of ``final`` left by killed writers (untouched this long)."""
    now = time.time()
    for path in final.parent.glob(f"{TMP_PREFIX}{final.name}-*"):
        with contextlib.suppress(OSError):
            if path.is_file() and now - path.stat().st_mtime >= older_than_s:
                path.unlink()


@contextlib.contextmanager
def atomic_file(final: Path | str) -> Iterator[Path]:
    """Yield a temporary path that replaces ``final``, durably, only if the block completes."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    tmp = temporary_name(final)
    try:
        try:
            yield tmp
            _sync_file(tmp)
            os.replace(tmp, final)
            _sync_folder(final.parent)
        except OSError as err:
            raise _named(err, final) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path | str, text: str) -> None:
    """Write a text file (UTF-8) atomically and durably."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: Path | str, data: bytes) -> None:
    """Write a binary file atomically and durably."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def lock(path: Path | str, *, wait: bool = True, timeout_s: float = -1) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if absent) while the block runs.

    ``wait=False``: raise ``Busy`` at once if another process holds it."""
    handle = filelock.FileLock(str(path), timeout=timeout_s if wait else 0)
    try:
        handle.acquire()
    except filelock.Timeout:
        raise Busy(str(path)) from None
    try:
        yield
    finally:
        handle.release()


def writer_lock(folder: Path) -> Path:
    """The lock file a writer of ``folder`` holds (beside it, not inside)."""
    return folder.with_name(folder.name + LOCK_SUFFIX)


@contextlib.contextmanager
def atomic_folder(
    final: Path | str, exists_error: type[Exception] = FileExistsError
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``final`` only if the block completes.

    On any exception (KeyboardInterrupt included) the temporary folder is removed and
    ``final`` is never created. ``exists_error`` is raised if ``final`` already exists.
    """
    final = Path(final)
    if final.exists():
        raise exists_error(f"{final}: already exists")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(final)
    guard = writer_lock(tmp)
    try:
        with lock(guard):
            tmp.mkdir()
            try:
                yield tmp
                for path in tmp.iterdir():
                    if path.is_file():
                        _sync_file(path)
                if final.exists():
                    raise exists_error(f"{final}: already exists")
                tmp.rename(final)
                _sync_folder(final.parent)
            except OSError as err:
                raise _named(err, final) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        guard.unlink(missing_ok=True)


def remove_abandoned(root: Path | str, older_than_s: float = ABANDONED_AFTER_S) -> list[Path]:
    """Remove temporary folders under ``root`` left by writers that were killed: unlocked
    and untouched for ``older_than_s`` seconds. Returns what was removed."""
    root = Path(root)
    if not root.is_dir():
        return []
    removed = []
    now = time.time()
    for path in root.glob(f"{TMP_PREFIX}*"):
        try:
            if not path.is_dir() or now - path.stat().st_mtime < older_than_s:
                continue
        except OSError:
            continue
        guard = writer_lock(path)
        try:
            with lock(guard, wait=False):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
        except Busy:
            continue  # a live writer
        except OSError:
            continue
        finally:
            if not path.exists():
                guard.unlink(missing_ok=True)
    return removed
