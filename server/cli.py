"""The ``osce-kg`` console script: the library's commands plus ``serve``.

``kg`` never imports ``server``; this module adds the server's command to ``kg``'s group.
"""

from __future__ import annotations

from kg.cli import cli


def main() -> None:
    """Entry point of the ``osce-kg`` console script."""
    cli()
