"""The root error type of osce-kg and its specific errors."""

from __future__ import annotations

from pathlib import Path


class OsceKgError(Exception):
    """Root of every error osce-kg raises on purpose."""


class InputError(OsceKgError):
    """An input file is unusable: names the file, the field, the problem and what to do."""

    def __init__(
        self,
        path: str | Path | None,
        field: str | None,
        problem: str,
        *,
        hint: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.field = field
        self.problem = problem
        self.hint = hint
        self.line = line
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: "
        if self.field:
            text += f"field {self.field!r}: "
        text += self.problem
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(OsceKgError):
    """A setting (base IRI, paths, limits) is invalid."""


class BuildError(OsceKgError):
    """A build cannot go on at all (as opposed to one release being quarantined)."""


def megabytes(size: int) -> str:
    """A size limit in bytes as megabytes (10**6 bytes) for an error message: '10 MB'."""
    return f"{size / 1_000_000:g} MB"
