"""Writing the user's files safely: atomically, never over an existing file unless forced."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from chinchilla_cli.errors import InputError


def check_writable(path: str | Path, option: str, force: bool) -> Path:
    """Fail early (before any long computation) if `path` cannot or must not be written."""
    p = Path(path)
    if p.exists() and not force:
        raise InputError(f"{str(p)!r} already exists; pass `force` to overwrite it", field=option)
    if p.is_dir():
        raise InputError(f"{str(p)!r} is a directory", field=option)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"folder {str(folder)!r} does not exist", field=option)
    if not os.access(folder, os.W_OK):
        raise InputError(f"folder {str(folder)!r} is not writable", field=option)
    return p


class Staged:
    """Files written to temporaries beside their targets, renamed into place together by
    `commit()`; `discard()` (or any error inside `together`) removes them all, so an
    interrupted command leaves none of its outputs behind, never some of them."""

    def __init__(self, force: bool) -> None:
        self.force = force
        self._files: list[tuple[Path, Path, str]] = []  # (tmp, target, option)

    def write(self, path: str | Path, write: Callable[[Path], object], option: str) -> Path:
        """Write `path`'s content now, through `write(tmp)`; it appears at commit."""
        p = check_writable(path, option, self.force)
        if any(target.resolve() == p.resolve() for _, target, _ in self._files):
            raise InputError(f"{str(p)!r} is named twice; give two different files", field=option)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        except OSError as e:
            raise InputError(f"cannot write {str(p)!r}: {e.strerror or e}", field=option) from None
        tmp = Path(tmp_name)
        self._files.append((tmp, p, option))
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file a normal file's mode
        try:
            write(tmp)
        except OSError as e:
            raise InputError(f"cannot write {str(p)!r}: {e.strerror or e}", field=option) from None
        return p

    def commit(self) -> None:
        for _, target, option in self._files:
            if target.exists() and not self.force:  # appeared while we computed
                raise InputError(
                    f"{str(target)!r} already exists; pass `force` to overwrite it", field=option
                )
        for tmp, target, option in self._files:
            try:
                os.replace(tmp, target)
            except OSError as e:
                raise InputError(
                    f"cannot write {str(target)!r}: {e.strerror or e}", field=option
                ) from None
        self._files = []

    def discard(self) -> None:
        for tmp, _, _ in self._files:
            tmp.unlink(missing_ok=True)
        self._files = []


@contextlib.contextmanager
def together(force: bool) -> Iterator[Staged]:
    """Stage every output of a command; all appear at the end, or none does."""
    staged = Staged(force)
    try:
        yield staged
        staged.commit()
    finally:
        staged.discard()


def write_atomic(
    path: str | Path, write: Callable[[Path], object], option: str, force: bool
) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it into place.

    A crash or Ctrl-C leaves either the old file or none, never a partial one. A failed
    write (disk full, read-only file system...) is one InputError naming the option.
    """
    with together(force) as staged:
        p = staged.write(path, write, option)
    return p


def write_text_atomic(path: str | Path, text: str, option: str, force: bool) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), option, force)
