"""Writing the user's files safely: atomically, never over an existing file unless forced."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
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


def write_atomic(
    path: str | Path, write: Callable[[Path], object], option: str, force: bool
) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it into place.

    A crash or Ctrl-C leaves either the old file or none, never a partial one. A failed
    write (disk full, read-only file system...) is one InputError naming the option.
    """
    p = check_writable(path, option, force)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as e:
        raise InputError(f"cannot write {str(p)!r}: {e.strerror or e}", field=option) from None
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file a normal file's mode
        write(tmp)
        if p.exists() and not force:  # appeared while we computed
            raise InputError(
                f"{str(p)!r} already exists; pass `force` to overwrite it", field=option
            )
        os.replace(tmp, p)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise InputError(f"cannot write {str(p)!r}: {e.strerror or e}", field=option) from None
        raise
    return p


def write_text_atomic(path: str | Path, text: str, option: str, force: bool) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), option, force)
