"""The few exceptions the core raises; the CLI turns each into one line and an exit code."""

from __future__ import annotations


class ChinchillaError(Exception):
    """Base class. `exit_code` is what the command line exits with."""

    exit_code = 2


class InputError(ChinchillaError):
    """Bad user input: an option value, a file, a preset name. Exit 2."""


class FitError(ChinchillaError):
    """A fit that ran but failed (did not converge, degenerate data). Exit 1."""

    exit_code = 1
