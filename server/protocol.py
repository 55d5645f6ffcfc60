"""What a SPARQL Protocol request asks for: its parameters read strictly, the query text
checked, the result format negotiated per query form, and the job and cache key they make.

Shared by the endpoint (``server/sparql.py``) and the fast path (``server/fastpath.py``), so
both read a request the same way and find the same kept answer.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from kg.rdf.vocab import PREFIXES
from server import conneg
from server.checks import nesting_depth
from server.limits import Limits
from server.query import Form, QueryJob

_PREFIX_PAIRS = tuple(PREFIXES.items())


@dataclass(frozen=True)
class ProtocolRequest:
    """A query operation as the SPARQL 1.1 Protocol defines it: query text and dataset."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    #: The ``format=`` parameter, which overrides Accept.
    format_param: str | None = None


def check_query_text(text: str, limits: Limits) -> None:
    """400 for an empty query or one nested too deep, 413 for one over ``MAX_QUERY_BYTES``."""
    if not text.strip():
        raise BadRequest("the query is empty")
    limit = limits.max_query_bytes
    if len(text.encode("utf-8")) > limit:
        raise RequestEntityTooLarge(f"the query is longer than the {limit}-byte limit")
    deepest, allowed = nesting_depth(text), limits.max_nesting
    if deepest > allowed:
        raise BadRequest(
            f"the query nests brackets {deepest} deep; at most {allowed} levels are accepted: "
            "flatten it (fewer nested groups, OPTIONALs or sub-SELECTs)"
        )


def strict_parameters(raw: bytes, where: str) -> MultiDict[str, str]:
    """Form-encoded parameters decoded as UTF-8, refusing (400) anything that is not.

    Werkzeug decodes leniently, which would silently run a different query than was sent.
    """
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"{where} is not UTF-8 percent-encoded ({error.reason}); "
            "percent-encode the query's UTF-8 bytes (e.g. é as %C3%A9)"
        ) from error
    except ValueError as error:
        raise BadRequest(f"{where} is not valid form encoding ({error})") from error
    return MultiDict(pairs)


ResultOffers = Mapping[Form, conneg.Offer | None]

#: The formats of each result form: solutions (SELECT), boolean (ASK), graph (CONSTRUCT/DESCRIBE).
RESULT_FAMILIES: dict[Form, tuple[conneg.Offer, ...]] = {
    "solutions": conneg.SOLUTION_OFFERS,
    "boolean": conneg.BOOLEAN_OFFERS,
    "graph": conneg.GRAPH_OFFERS,
}
#: Generic format names read per result form, as Fuseki does: a client asking for "xml" or
#: "json" gets RDF/XML or JSON-LD from a CONSTRUCT or DESCRIBE query
FORM_FORMAT_NAMES: dict[Form, dict[str, str]] = {
    "graph": {"xml": "rdf", "json": "jsonld", "n3": "ttl", "rdf+xml": "rdf", "rdf xml": "rdf"}
}


@functools.lru_cache(maxsize=512)
def result_offers(accept: str | None, wanted: str | None) -> ResultOffers:
    """The negotiated format per result form for an Accept header and a ``format=`` value;
    None where none fits. Remembered per pair (the answer is a pure function of the two);
    callers must not change the mapping."""
    # A family nobody accepts gets None: the worker still checks the query's syntax first
    # and answers 406 only if the query really is of that form.
    return {
        form: conneg.try_negotiate(
            (*family, conneg.HTML),
            accept=accept,
            format_param=FORM_FORMAT_NAMES.get(form, {}).get((wanted or "").lower(), wanted),
        )
        for form, family in RESULT_FAMILIES.items()
    }


def query_job(
    operation: ProtocolRequest, offers: ResultOffers, limits: Limits, base_iri: str
) -> QueryJob:
    """The job a request asks for: its text, dataset, the worker's formats and the limits;
    400 for a dataset IRI that is not absolute."""
    return QueryJob(
        text=operation.query,
        solutions_format=_worker_format(offers["solutions"], conneg.SPARQL_JSON),
        boolean_format=_worker_format(offers["boolean"], conneg.SPARQL_JSON),
        graph_format=_worker_format(offers["graph"], conneg.TURTLE),
        default_graphs=_graph_iris(operation.default_graphs, "default-graph-uri"),
        named_graphs=_graph_iris(operation.named_graphs, "named-graph-uri"),
        max_rows=limits.max_rows,
        prefixes=_PREFIX_PAIRS,
        service_allowlist=limits.service_allowlist,
        base_iri=base_iri,
    )


def response_key(job: QueryJob, offers: ResultOffers) -> Hashable:
    """What names a finished answer in the SPARQL cache: the job (text, dataset, formats, row
    limit, base IRI) and the format chosen for each result form (HTML and JSON share a job)."""
    return ("response", job, tuple(offers[form] for form in RESULT_FAMILIES))


def _worker_format(offer: conneg.Offer | None, for_html: conneg.Offer) -> str | None:
    if offer is None:
        return None
    return for_html.media_type if offer == conneg.HTML else offer.media_type


def _graph_iris(values: tuple[str, ...], parameter: str) -> tuple[str, ...]:
    for value in values:
        if not value or any(c in value for c in ' <>"{}|^`\\') or ":" not in value:
            raise BadRequest(f"{parameter}={value!r} is not an absolute IRI")
    return values
