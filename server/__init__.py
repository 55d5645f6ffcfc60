"""The osce-kg linked-data server: SPARQL endpoint, entity URIs, dumps and pages."""

from __future__ import annotations
