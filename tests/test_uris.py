"""Tests of kg.rdf.uris: IRIs are minted under the base they are given, and read back."""

from __future__ import annotations

import pytest

from kg.rdf.uris import graph_iri, parse_graph_iri, reference_table_iri, source_file_iri

BASE = "https://w3id.org/osce-kg/"


@pytest.mark.parametrize(
    ("iri", "parsed"),
    [
        ("https://w3id.org/osce-kg/graph/release/2024-01-02-a", ("release", "2024-01-02-a")),
        ("https://w3id.org/osce-kg/graph/reference", ("reference", None)),
        ("https://w3id.org/osce-kg/graph/", None),
        ("https://w3id.org/osce-kg/id/state/at", None),
        ("https://elsewhere.example/graph/release/2024-01-02-a", None),
    ],
)
def test_graph_iris_are_read_back_into_name_and_key(
    iri: str, parsed: tuple[str, str | None] | None
) -> None:
    assert parse_graph_iri(iri, base="https://w3id.org/osce-kg/") == parsed


def test_graph_iris_round_trip_under_another_base() -> None:
    other = "https://example.org/kg/"
    assert parse_graph_iri(str(graph_iri("extra", "notes", base=other)), base=other) == (
        "extra",
        "notes",
    )
    assert parse_graph_iri(str(graph_iri("extra", "notes", base=other)), base=BASE) is None


def test_source_files_and_facts_tables_have_distinct_keys() -> None:
    """A release file and a facts table never share an IRI, whatever their names."""
    release_file = source_file_iri("participating_states.tsv", base=BASE)
    table = reference_table_iri("participating_states.tsv", base=BASE)
    assert str(table) == f"{BASE}id/source-file/reference-participating-states"
    assert release_file != table
    assert str(release_file).startswith(f"{BASE}id/source-file/participating-states-tsv-")
