"""Reads query parameters that lists, search and reconciliation share, answering 400 when bad."""

from __future__ import annotations

from flask import abort, request


def whole_number(name: str, default: int, highest: int, *, lowest: int = 1) -> int:
    """A whole-number parameter (``default`` when absent); 400 outside lowest..highest."""
    raw = request.args.get(name, str(default))
    if not (raw.isascii() and raw.isdecimal()) or not lowest <= int(raw) <= highest:
        abort(400, f"{name} {raw!r} is not a whole number from {lowest} to {highest}")
    return int(raw)
