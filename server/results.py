"""Writes a query's result in the chosen format, cut at the row cap and saying so."""

from __future__ import annotations

import contextlib
import re
from typing import IO, cast

import pyoxigraph as ox

from server.query import Form, QueryAnswer, QueryFailure, QueryJob

_FORM_NAMES: dict[Form, str] = {
    "solutions": "SELECT",
    "boolean": "ASK",
    "graph": "CONSTRUCT/DESCRIBE",
}


class _RowCapReached(Exception):
    """Raised from inside pyoxigraph's serializer to stop it once enough rows are written."""


class _LineCappedBuffer:
    """A binary sink that stops the writer after ``max_lines`` complete lines."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.chunks: list[bytes] = []
        self.lines = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.lines += data.count(b"\n")
        if self.lines > self.max_lines:
            raise _RowCapReached
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the data stays in memory."""

    def first_lines(self) -> list[bytes]:
        """The complete lines written, at most ``max_lines`` of them, each with its newline."""
        lines = b"".join(self.chunks).split(b"\n")[:-1]
        return [line + b"\n" for line in lines[: self.max_lines]]


def write_result(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, job: QueryJob
) -> QueryAnswer | QueryFailure:
    """The result in the job's format for its form, or "not acceptable" when it has none."""
    if isinstance(result, ox.QueryBoolean):
        return _write_boolean(result, job)
    if isinstance(result, ox.QuerySolutions):
        return _write_solutions(result, job)
    return _write_graph(result, job)


def _not_acceptable(form: Form) -> QueryFailure:
    return QueryFailure(
        "not-acceptable",
        f"this is a {_FORM_NAMES[form]} query and none of its result formats is acceptable",
        form,
    )


def _write_boolean(result: ox.QueryBoolean, job: QueryJob) -> QueryAnswer | QueryFailure:
    if job.boolean_format is None:
        return _not_acceptable("boolean")
    fmt = _results_format(job.boolean_format)
    return QueryAnswer("boolean", result.serialize(format=fmt) or b"", rows=1)


def _write_solutions(result: ox.QuerySolutions, job: QueryJob) -> QueryAnswer | QueryFailure:
    if job.solutions_format is None:
        return _not_acceptable("solutions")
    # TSV puts every solution on one line, so counting lines counts rows; the capped TSV is
    # then parsed back and written in the requested format, all by pyoxigraph.
    sink = _LineCappedBuffer(job.max_rows + 2)  # the header, max_rows rows and one more
    with contextlib.suppress(_RowCapReached):
        result.serialize(cast(IO[bytes], sink), format=ox.QueryResultsFormat.TSV)
    lines = sink.first_lines()
    rows = lines[1 : job.max_rows + 1]
    truncated = len(lines) - 1 > job.max_rows
    tsv = b"".join(lines[:1] + rows)
    fmt = _results_format(job.solutions_format)
    if fmt in SPREADSHEET_FORMATS:
        tsv = defuse_formulas(tsv)
    if fmt == ox.QueryResultsFormat.TSV:
        body = tsv
    else:
        solutions = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
        if not isinstance(solutions, ox.QuerySolutions):
            raise TypeError("the capped TSV of a SELECT result did not read back as solutions")
        body = solutions.serialize(format=fmt) or b""
    return QueryAnswer("solutions", body, len(rows), truncated)


#: Formats a spreadsheet opens, where a cell starting with one of these is run as a formula.
SPREADSHEET_FORMATS = (ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A number cannot be a formula, so "-5" or "+1.5E3" stay as they are (but "-1+2" is a formula).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def defuse_formula(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | None,
) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    """The term, or for a literal a spreadsheet would run as a formula the same literal with a
    leading ``'`` (OWASP's CSV-injection advice). IRIs and blank nodes cannot start so."""
    if not isinstance(term, ox.Literal):
        return term
    text = term.value
    if not text.startswith(FORMULA_STARTS) or _NUMBER.fullmatch(text):
        return term
    if term.language:
        return ox.Literal("'" + text, language=term.language)
    return ox.Literal("'" + text, datatype=term.datatype)


def defuse_formulas(tsv: bytes) -> bytes:
    """SPARQL TSV results with every formula-like literal defused, read and written by pyoxigraph
    (the same bytes when there is none)."""
    solutions = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
    if not isinstance(solutions, ox.QuerySolutions):
        raise TypeError("a SELECT result in TSV did not read back as solutions")
    variables = solutions.variables
    lines = ["\t".join(str(variable) for variable in variables)]
    changed = False
    for solution in solutions:
        terms = [solution[variable] for variable in variables]
        defused = [defuse_formula(term) for term in terms]
        changed = changed or defused != terms
        lines.append("\t".join("" if term is None else str(term) for term in defused))
    if not changed:
        return tsv
    text = "".join(line + "\n" for line in lines)
    rewritten = ox.parse_query_results(text.encode("utf-8"), ox.QueryResultsFormat.TSV)
    if not isinstance(rewritten, ox.QuerySolutions):
        raise TypeError("the defused TSV did not read back as solutions")
    return rewritten.serialize(format=ox.QueryResultsFormat.TSV) or b""


def _write_graph(result: ox.QueryTriples, job: QueryJob) -> QueryAnswer | QueryFailure:
    if job.graph_format is None:
        return _not_acceptable("graph")
    sink = _LineCappedBuffer(job.max_rows + 1)  # N-Triples: one triple a line
    with contextlib.suppress(_RowCapReached):
        result.serialize(cast(IO[bytes], sink), format=ox.RdfFormat.N_TRIPLES)
    lines = sink.first_lines()
    kept = lines[: job.max_rows]
    fmt = _rdf_format(job.graph_format)
    quads = ox.parse(b"".join(kept), format=ox.RdfFormat.N_TRIPLES)
    items: list[ox.Quad] | list[ox.Triple]
    items = list(quads) if fmt.supports_datasets else [quad.triple for quad in quads]
    body = ox.serialize(items, format=fmt, prefixes=dict(job.prefixes) or None) or b""
    return QueryAnswer("graph", body, len(kept), len(lines) > job.max_rows)


def _results_format(media_type: str) -> ox.QueryResultsFormat:
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"pyoxigraph cannot write query results as {media_type}")
    return fmt


def _rdf_format(media_type: str) -> ox.RdfFormat:
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"pyoxigraph cannot write RDF as {media_type}")
    return fmt
