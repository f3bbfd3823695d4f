"""Errors that reach the user as one clear line.

`InputError` is bad input (a scenario typo, a corrupt DEM, a missing file): the CLI prints its message on
one line to stderr and exits with code 2. Anything else escaping the CLI is an internal error (exit 1).
"""

from __future__ import annotations


class InputError(Exception):
    """Bad user input or data; the message says what is wrong and where."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DataNotFoundError(InputError):
    """A data file (DEM, gravity field) is not present in the data directory."""
