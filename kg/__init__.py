"""osce-kg: a knowledge graph of the OSCE and its press releases."""

from __future__ import annotations

__version__ = "0.1.0"
