"""Tests of kg.rdf.rdffiles: RDF files load into named graphs, and syntax errors are located."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from rdflib import URIRef

from kg.errors import InputError
from kg.rdf.rdffiles import load_rdf_files, load_turtle_folder

TRIPLE = "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"
GRAPH = "http://example.org/graph/g"


def named_graphs(paths: list[Path]) -> dict[str, int]:
    dataset = load_rdf_files(paths)
    return {
        str(g.identifier): len(g)
        for g in dataset.graphs()
        if isinstance(g.identifier, URIRef) and len(g)
    }


def test_a_triple_file_becomes_the_graph_named_by_its_file_iri(tmp_path: Path) -> None:
    path = tmp_path / "data.nt.gz"
    path.write_bytes(gzip.compress(TRIPLE.encode("utf-8")))
    assert named_graphs([path]) == {path.resolve().as_uri(): 1}


def test_a_quad_file_keeps_its_named_graphs(tmp_path: Path) -> None:
    path = tmp_path / "data.nq"
    path.write_text(TRIPLE.replace(" .", f" <{GRAPH}> ."), encoding="utf-8")
    assert named_graphs([path]) == {GRAPH: 1}


@pytest.mark.parametrize(
    ("name", "text", "line", "column", "problem"),
    [
        ("bad.nt", TRIPLE + "<http://a> <http://b> c .\n", 2, 23, "not valid N-Triples"),
        ("bad.ttl", '@prefix ex: <http://example.org/> .\nex:a ex:b "open ;\n', 2, 18, "Turtle"),
    ],
)
def test_a_syntax_error_names_the_file_line_and_column(
    tmp_path: Path, name: str, text: str, line: int, column: int, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_rdf_files([path])
    assert (raised.value.path, raised.value.line, raised.value.column) == (str(path), line, column)
    assert problem in raised.value.problem


def test_an_unknown_extension_says_which_ones_work(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text(TRIPLE, encoding="utf-8")
    with pytest.raises(InputError, match="unknown RDF file extension") as raised:
        load_rdf_files([path])
    assert ".ttl" in raised.value.hint


def test_a_broken_turtle_file_in_a_folder_is_named_with_the_folder(tmp_path: Path) -> None:
    (tmp_path / "good.ttl").write_text(TRIPLE, encoding="utf-8")
    (tmp_path / "broken.ttl").write_text("<http://a> <http://b> .\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_turtle_folder(tmp_path, "shapes")
    assert raised.value.path == "shapes/broken.ttl"
    assert raised.value.line == 1
