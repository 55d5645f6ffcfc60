"""`osce-kg validate`: exit codes, the report a person reads, --report and bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rdflib import SH, Graph, Literal

from kg.cli import cli

SHAPES_DATA = Path(__file__).parent / "data" / "shapes"
CONTEXT = SHAPES_DATA / "context.ttl"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["validate", *map(str, args)])


def test_reference_graph_conforms_by_default() -> None:
    result = run()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Conforms: 0 violations,")


def test_valid_files_conform() -> None:
    result = run(CONTEXT, SHAPES_DATA / "releases" / "valid-release.ttl")
    assert result.exit_code == 0, result.output
    assert result.output == result.output.splitlines()[0] + "\n"  # nothing to act on


def test_violation_exits_1_and_says_what_to_fix() -> None:
    result = run(CONTEXT, SHAPES_DATA / "states" / "invalid-alpha2-pattern.ttl")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("Does NOT conform: 1 violation, 0 warnings")
    assert "state:de  (Germany)" in lines
    where = lines[lines.index("state:de  (Germany)") + 1]
    assert where.startswith("  in ") and where.endswith("states/invalid-alpha2-pattern.ttl")
    assert '  Violation: osce:isoAlpha2 = "DEU"' in lines
    assert "two capital letters" in result.output
    assert "    shape: oscesh:State-isoAlpha2" in lines


def test_warnings_alone_exit_0_but_are_shown() -> None:
    result = run(CONTEXT, SHAPES_DATA / "places" / "warning-city-no-geonames.ttl")
    assert result.exit_code == 0
    assert result.output.startswith("Conforms: 0 violations, 1 warning,")
    assert "  Warning: osce:geonamesId" in result.output


def test_release_file_with_reference_links(tmp_path: Path) -> None:
    """A release that links to a reference State fails alone but passes with --with-reference."""
    release = tmp_path / "release.ttl"
    release.write_text(
        (SHAPES_DATA / "releases" / "valid-release-news-minimal.ttl").read_text(encoding="utf-8")
        + "release:2020-12-04-example-abc123 osce:mentionsState state:de .\n",
        encoding="utf-8",
    )
    alone = run(release)
    assert alone.exit_code == 1
    assert "oscesh:PressRelease-mentionsState" in alone.output
    with_reference = run("--with-reference", release)
    assert with_reference.exit_code == 0, with_reference.output


def test_report_option_writes_parseable_turtle(tmp_path: Path) -> None:
    target = tmp_path / "report.ttl"
    result = run(
        "--report", target, CONTEXT, SHAPES_DATA / "people" / "invalid-person-no-label.ttl"
    )
    assert result.exit_code == 1
    assert f"SHACL report written to {target}" in result.output
    report = Graph().parse(target, format="turtle")
    (node,) = report.subjects(SH.conforms, None)
    assert report.value(node, SH.conforms) == Literal(False)
    assert len(list(report.objects(node, SH.result))) == 1


def test_gzipped_and_quad_files_are_read(tmp_path: Path) -> None:
    quads = tmp_path / "data.nq.gz"
    graph = Graph().parse(SHAPES_DATA / "states" / "invalid-alpha3-lowercase.ttl")
    graph += Graph().parse(CONTEXT)
    lines = [
        f"{s.n3()} {p.n3()} {o.n3()} <https://w3id.org/osce-kg/graph/extra/test> .\n"
        for s, p, o in graph
    ]
    quads.write_bytes(gzip.compress("".join(lines).encode("utf-8")))
    result = run(quads)
    assert result.exit_code == 1
    assert "oscesh:State-isoAlpha3" in result.output
    assert "  in <https://w3id.org/osce-kg/graph/extra/test>" in result.output.splitlines()


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("broken.ttl", '@prefix ex: <http://example.org/> .\nex:a ex:b "open ;\n', "broken.ttl:2:"),
        (
            "broken.nt",
            "<http://a> <http://b> <http://c> .\n<http://a> <http://b> c .\n",
            "broken.nt:2:23",
        ),
        (
            "broken.rdf",
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n <x\n',
            "broken.rdf:2:",
        ),
        ("broken.jsonld", '{\n  "@id": "http://a",\n  "http://b": [1,\n}\n', "broken.jsonld:4:1"),
    ],
)
def test_unparsable_file_exits_2_naming_line_and_column(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run(CONTEXT, path)
    assert result.exit_code == 2
    assert result.stdout.startswith("Conforms: 0 violations,")  # the other file still checked
    assert result.stderr.startswith("Error: ")
    assert f"{path.parent}/{where}" in result.stderr
    assert "fix the syntax at this line and column" in result.stderr


def test_turtle_error_points_at_the_faulty_character(tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "open ;\n', encoding="utf-8")
    result = run(path)
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing left to validate
    assert f"{path}:2:18: not valid Turtle" in result.stderr  # the newline ends the string


def test_unknown_extension_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("<http://a> <http://b> <http://c> .\n", encoding="utf-8")
    result = run(path)
    assert result.exit_code == 2
    assert "unknown RDF file extension" in result.stderr


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path / "nowhere.ttl")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_file_without_rdf_statements_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """Plain JSON saved as .jsonld parses to nothing: 'Conforms' would be a false all-clear."""
    path = tmp_path / "plain.jsonld"
    path.write_text('{"name": "not linked data"}\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["validate", str(path)])

    assert result.exit_code == 2
    assert "plain.jsonld: the file holds no RDF statements" in result.output
    assert "Conforms" not in result.output
