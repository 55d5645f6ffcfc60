"""Reads RDF files into rdflib graphs, naming the file, line and column of a syntax error."""

from __future__ import annotations

import gzip
import logging
import warnings
from collections.abc import Iterable
from importlib.resources.abc import Traversable
from pathlib import Path
from xml.sax import SAXParseException

import pyoxigraph
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.util import guess_format

from kg.errors import InputError, megabytes
from kg.resources import turtle_files

log = logging.getLogger(__name__)

#: The largest extra RDF file a build reads, in bytes after decompressing a ``.gz`` file
#: (``osce-kg build --max-rdf-size``); a gzip file is refused while it is decompressed.
MAX_RDF_BYTES = 100_000_000

# rdflib format names -> pyoxigraph formats, to locate a syntax error rdflib gives no line for.
_OXIGRAPH_FORMATS = {
    "nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "nquads": pyoxigraph.RdfFormat.N_QUADS,
}
_QUAD_FORMATS = frozenset({"nquads", "trig", "trix"})
_FORMAT_NAMES = {
    "turtle": "Turtle",
    "nt": "N-Triples",
    "nquads": "N-Quads",
    "trig": "TriG",
    "xml": "RDF/XML",
    "json-ld": "JSON-LD",
    "n3": "Notation3",
}


def load_turtle_folder(folder: Traversable, what: str) -> Graph:
    """Every ``.ttl`` file of ``folder`` in one graph; ``what`` names the folder in errors."""
    graph = Graph()
    for resource in turtle_files(folder):
        data = resource.read_bytes()
        try:
            graph.parse(data=data, format="turtle", publicID=_public_id(resource.name, what))
        except (BadSyntax, ParserError) as exc:
            raise _input_error(f"{what}/{resource.name}", data, "turtle", exc) from exc
    log.debug("loaded %d %s triples", len(graph), what)
    return graph


def _public_id(name: str, what: str) -> str:
    return f"file:///{what}/{name}"


def load_rdf_files(paths: Iterable[str | Path]) -> Dataset:
    """Parses RDF files (format from the extension, ``.gz`` allowed) into one Dataset.

    Quad files (N-Quads, TriG) keep their named graphs; each triple file becomes a named
    graph called by its file IRI, so results can be traced back to the file.
    Raises InputError naming the file, line and column of the first syntax error.
    """
    dataset = Dataset(default_union=True)
    for path in map(Path, paths):
        add_rdf_file(dataset, path)
    return dataset


def add_rdf_file(dataset: Dataset, path: Path, *, max_bytes: int | None = None) -> bytes:
    """Parses one RDF file into ``dataset``, as ``load_rdf_files`` does; returns its bytes
    (decompressed). InputError if unusable, or larger than ``max_bytes`` when given."""
    data, fmt = _read_rdf_file(path, max_bytes)
    try:
        _parse_into(dataset, path.resolve().as_uri(), data, fmt)
    except (BadSyntax, ParserError, SyntaxError, ValueError, SAXParseException) as exc:
        raise _input_error(str(path), data, fmt, exc) from exc
    return data


def load_storable_graph(path: Path, *, max_bytes: int = MAX_RDF_BYTES) -> Graph:
    """The triples of one RDF file (its named graphs merged), every IRI one a store can hold.

    Raises InputError naming the file: larger than ``max_bytes`` (after decompressing),
    a syntax error (line and column), or an IRI RDF does not allow, such as one with a
    ``"`` that rdflib's Turtle parser lets through and the store refuses (its line).
    """
    dataset = Dataset(default_union=True)
    data = add_rdf_file(dataset, path, max_bytes=max_bytes)
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    _check_iris(graph, path, data)
    return graph


def _check_iris(graph: Graph, path: Path, data: bytes) -> None:
    seen: set[str] = set()
    for triple in graph:
        for term in triple:
            iri = term.datatype if isinstance(term, Literal) else term
            if not isinstance(iri, URIRef) or iri in seen:
                continue
            seen.add(iri)
            try:
                pyoxigraph.NamedNode(iri)
            except ValueError as exc:
                raise _iri_error(path, data, str(iri), str(exc)) from exc


def _iri_error(path: Path, data: bytes, iri: str, problem: str) -> InputError:
    """The IRI as written is found in the text for its line (a prefixed name is not)."""
    offset = data.find(iri.encode("utf-8"))
    return InputError(
        path,
        None,
        f"the IRI <{iri}> is not a valid IRI: {problem}",
        hint="IRIs may not hold spaces, quotes or any of <>{}|^`\\; percent-encode the "
        'character (a " is %22)',
        line=data.count(b"\n", 0, offset) + 1 if offset >= 0 else None,
    )


def _parse_into(dataset: Dataset, iri: str, data: bytes, fmt: str) -> None:
    rdflib_terms = logging.getLogger("rdflib.term")
    level = rdflib_terms.level
    # An ill-typed literal ("2020-02-31"^^xsd:date) makes rdflib log a traceback; the
    # validation report names the literal already, in words.
    rdflib_terms.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            # rdflib's own parsers still call APIs it deprecates (Dataset.default_context in
            # the quad parsers, ConjunctiveGraph in the JSON-LD parser on some inputs).
            warnings.filterwarnings("ignore", "Dataset.default_context", DeprecationWarning)
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
            if fmt in _QUAD_FORMATS:
                dataset.parse(data=data, format=fmt, publicID=iri)
            else:
                dataset.graph(URIRef(iri)).parse(data=data, format=fmt, publicID=iri)
    finally:
        rdflib_terms.setLevel(level)


def _read_rdf_file(path: Path, max_bytes: int | None) -> tuple[bytes, str]:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    fmt = guess_format(name)
    if fmt is None:
        raise InputError(
            path,
            None,
            "unknown RDF file extension",
            hint="use .ttl, .nt, .nq, .trig, .rdf, .owl or .jsonld, optionally with .gz",
        )
    compressed = path.name.endswith(".gz")
    try:
        # Read at most one byte past the limit: a gzip bomb is stopped while it is
        # decompressed, never held whole.
        with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
            data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(path, None, f"cannot read the file: {exc}", hint="check the path") from exc
    if max_bytes is not None and len(data) > max_bytes:
        raise InputError(
            path,
            None,
            ("decompressed, the file holds" if compressed else "the file holds")
            + f" more than the limit of {megabytes(max_bytes)} for an extra RDF file",
            hint="give a smaller file, or raise the limit with osce-kg build --max-rdf-size MB",
        )
    return data, fmt


def _input_error(where: str, data: bytes, fmt: str, exc: Exception) -> InputError:
    """An InputError with the parser's line and column (both 1-based) where it knows them."""
    if isinstance(exc, UnicodeDecodeError):
        return _encoding_error(where, data)
    line, column, problem = _locate_syntax_error(data, fmt, exc)
    return InputError(
        where,
        None,
        f"not valid {_FORMAT_NAMES.get(fmt, fmt)}: {problem}",
        hint="fix the syntax at this line and column",
        line=line,
        column=column,
    )


def _encoding_error(where: str, data: bytes) -> InputError:
    """The first byte that is not UTF-8, by line and column: RDF files must be UTF-8."""
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as error:
        start = error.start
    return InputError(
        where,
        None,
        f"the file is not UTF-8 text: byte 0x{data[start]:02x} cannot be read",
        hint="RDF files are UTF-8; save it again as UTF-8, e.g. iconv -f WINDOWS-1252 -t UTF-8",
        line=data.count(b"\n", 0, start) + 1,
        column=start - (data.rfind(b"\n", 0, start) + 1) + 1,
    )


def _locate_syntax_error(
    data: bytes, fmt: str, exc: Exception
) -> tuple[int | None, int | None, str]:
    if isinstance(exc, BadSyntax):
        # BadSyntax carries the parsed text and the character offset of the fault.
        text: bytes = exc._str if isinstance(exc._str, bytes) else str(exc._str).encode()
        offset = min(exc._i, len(text))
        line_start = text.rfind(b"\n", 0, offset) + 1
        return text.count(b"\n", 0, offset) + 1, offset - line_start + 1, exc._why
    lineno = getattr(exc, "lineno", None) or _call(exc, "getLineNumber")
    column = getattr(exc, "colno", None) or _call(exc, "getColumnNumber")
    if lineno is None and fmt in _OXIGRAPH_FORMATS:
        # rdflib's line-based parsers give no position; pyoxigraph's parser does.
        return _locate_with_oxigraph(data, _OXIGRAPH_FORMATS[fmt], str(exc))
    if isinstance(column, int) and getattr(exc, "colno", None) is None:
        column += 1  # expat counts columns from 0
    if isinstance(exc, SAXParseException):
        return lineno, column, exc.getMessage()
    return lineno, column, str(getattr(exc, "msg", None) or exc)


def _locate_with_oxigraph(
    data: bytes, fmt: pyoxigraph.RdfFormat, problem: str
) -> tuple[int | None, int | None, str]:
    try:
        for _ in pyoxigraph.parse(data, fmt):
            pass
    except SyntaxError as exc:
        return exc.lineno, exc.offset, exc.msg
    return None, None, problem


def _call(exc: Exception, method: str) -> int | None:
    function = getattr(exc, method, None)
    value = function() if callable(function) else None
    return value if isinstance(value, int) else None
