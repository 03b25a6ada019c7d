"""The few exceptions the library raises. Each carries the `field` it is about: the name
of the Python argument (`flops`, `law`, `runs`...), which the command line maps to its
own option or argument name. Text that names another argument writes it in backticks
(`huber_delta`), so each front end can name it its own way."""

from __future__ import annotations


class ChinchillaError(Exception):
    """Base class. `exit_code` is what the command line exits with."""

    exit_code = 2
    # the message already names where the problem is (a file and line, a table's row):
    # a front end need not name the argument `field` again
    located = False

    def __init__(self, message: str, field: str | None = None, *, located: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.located = located

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InputError(ChinchillaError, ValueError):
    """Bad input: an argument value, a file, a preset name. Exit 2."""


class FitError(ChinchillaError, RuntimeError):
    """A fit that ran but failed (did not converge, degenerate data). Exit 1."""

    exit_code = 1
