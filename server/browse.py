"""Browsing by class: /browse/ (every class) and /browse/{class}, paged, sortable and, for
releases, faceted; each list as HTML, JSON or CSV (by extension, ``format=`` or Accept)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, abort, g, jsonify, render_template, request

from kg.publish.search_index import fold
from server import conneg, urls
from server.browse_lists import (
    FACETS,
    Facet,
    FacetValue,
    Filters,
    Item,
    class_counts,
    facet_counts,
    has_instances,
    is_release_class,
    list_items,
)
from server.labels import Labeller
from server.params import whole_number
from server.responses import HTML, finish_validated, not_modified, request_etag
from server.results import defuse_formula
from server.shortnames import entity_iri, entity_name, named_node, term_iri, term_name

bp = Blueprint("browse", __name__)

JSON = conneg.Offer("json", "application/json")
CSV = conneg.Offer("csv", "text/csv", charset=True)
LIST_OFFERS = (HTML, JSON, CSV)
EXTENSIONS = {offer.key: offer for offer in (JSON, CSV)}

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000
SORTS = ("label", "-label", "date", "-date")


@dataclass(frozen=True)
class ClassRow:
    """A class on /browse/: its short name, IRI, label, how many things it has, its list."""

    id: str
    iri: str
    label: str
    count: int
    url: str | None


@dataclass(frozen=True)
class Row:
    """A thing in a list, as shown: short id, IRI, link, label, date."""

    id: str
    iri: str
    url: str
    label: str
    date: str | None


@bp.get("/browse/")
def classes() -> Response:
    """Every class with things in it and how many, each linking to its list."""
    offer = negotiate(None)
    etag = request_etag(offer.key)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    labeller = Labeller.for_request()
    rows = []
    for iri, count in class_counts():
        name = term_name(iri)
        browsable = name != iri
        rows.append(
            ClassRow(
                id=name,
                iri=iri,
                label=labeller.label(ox.NamedNode(iri)),
                count=count,
                url=urls.browse_url(name) if browsable else None,
            )
        )
    if offer is JSON:
        response = jsonify(classes=[asdict(row) for row in rows])
    elif offer is CSV:
        response = csv_response([[r.id, r.iri, r.label, str(r.count)] for r in rows], "classes")
    else:
        html = render_template("browse_classes.html", classes=rows)
        response = Response(html, content_type=HTML.content_type)
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    return finish_validated(response, etag)


@dataclass(frozen=True)
class ListView:
    """Which list a request shows: the class's short name, filters, order, page size, form."""

    name: str
    filters: Filters
    sort: str
    size: int
    extension: str | None = None

    def url(
        self,
        *,
        filters: Filters | None = None,
        sort: str | None = None,
        page: int | None = None,
        extension: str | None = "",
    ) -> str:
        """This list's URL with some parts changed (``extension=""``: the same form)."""
        chosen = filters if filters is not None else self.filters
        return urls.browse_url(
            self.name,
            extension=self.extension if extension == "" else extension,
            **chosen.as_params(),
            sort=sort or self.sort,
            size=self.size if self.size != DEFAULT_PAGE_SIZE else None,
            page=page,
        )


@bp.get("/browse/<name>")
def listing(name: str) -> Response:
    """The things of one class, a page at a time, sorted and filtered by the query string."""
    stem, dot, extension = name.rpartition(".")
    offer = negotiate(EXTENSIONS.get(extension) if dot else None)
    if dot and extension in EXTENSIONS:
        name = stem
    etag = request_etag(offer.key)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    node = named_node(term_iri(name))
    if node is None or not has_instances(node):
        abort(404, f"no class {name!r} with things in this dataset; see {urls.browse_url()}")
    iri = node.value
    facets = FACETS if is_release_class(node) else ()
    view = ListView(
        name,
        read_filters(facets),
        choose(request.args.get("sort"), SORTS, default="-date" if facets else "label"),
        whole_number("size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
        offer.key if offer in (JSON, CSV) else None,
    )
    number = whole_number("page", 1, MAX_PAGE)
    labeller = Labeller.for_request()
    items = sorted_items(list_items(node, view.filters), view.sort, labeller)
    start = (number - 1) * view.size
    if number > 1 and start >= len(items):
        last = max(1, -(-len(items) // view.size))
        abort(404, f"page {number} is past the last page ({last})")
    rows = [row_of(item, labeller) for item in items[start : start + view.size]]
    previous = view.url(page=number - 1) if number > 1 else None
    following = view.url(page=number + 1) if start + view.size < len(items) else None
    shown_facets = [facet_view(facet, node, view, labeller) for facet in facets]
    title = labeller.label(node)
    if offer is JSON:
        response = jsonify(
            {
                "class": {"id": name, "iri": iri, "label": title},
                "total": len(items),
                "page": number,
                "page_size": view.size,
                "sort": view.sort,
                "filters": view.filters.as_params(),
                "items": [asdict(row) for row in rows],
                "facets": {f.name: [asdict(v) for v in values] for f, values in shown_facets},
                "previous": previous,
                "next": following,
            }
        )
    elif offer is CSV:
        has_dates = any(row.date for row in rows)
        header = ["id", "iri", "label", *(["date"] if has_dates else [])]
        cells = [
            [row.id, row.iri, row.label, *([row.date or ""] if has_dates else [])] for row in rows
        ]
        response = csv_response(cells, name, header=header)
    else:
        html = render_template(
            "browse.html",
            view=view,
            iri=iri,
            title=title,
            definition=urls.iri_link(iri),
            total=len(items),
            rows=rows,
            page=number,
            start=start,
            has_dates=any(item.date for item in items),
            facets=shown_facets,
            selected=selected_filters(view, labeller),
            json_url=view.url(page=number, extension="json"),
            csv_url=view.url(page=number, extension="csv"),
            previous=previous,
            following=following,
        )
        response = Response(html, content_type=HTML.content_type)
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    links = [f'<{u}>; rel="{rel}"' for u, rel in ((previous, "prev"), (following, "next")) if u]
    if links:
        response.headers["Link"] = ", ".join(links)
    return finish_validated(response, etag)


def negotiate(by_extension: conneg.Offer | None) -> conneg.Offer:
    """The list's form: the extension's, else ``format=``, else Accept (no Accept: HTML)."""
    if by_extension is not None:
        offer = by_extension
    else:
        offer = conneg.negotiate(
            LIST_OFFERS,
            accept=request.headers.get("Accept"),
            format_param=request.args.get("format"),
        )
    g.document_format = offer
    return offer


def choose(value: str | None, allowed: tuple[str, ...], *, default: str) -> str:
    if value is None or value == "":
        return default
    if value not in allowed:
        abort(400, f"sort {value!r} is not one of {', '.join(allowed)}")
    return value


def read_filters(facets: tuple[Facet, ...]) -> Filters:
    """The facet values chosen in the query string; 400 for a malformed one."""
    years: list[int] = []
    chosen: list[tuple[Facet, str]] = []
    for facet in facets:
        for raw in request.args.getlist(facet.name):
            value = raw.strip()
            if facet.predicate is None:
                if not (value.isascii() and value.isdecimal() and len(value) == 4):
                    abort(400, f"{facet.name} {raw!r} is not a year such as 2018")
                years.append(int(value))
            elif value:
                if named_node(entity_iri(value)) is None:
                    abort(400, f"{facet.name} {raw!r} is not the id of a thing, such as state/at")
                chosen.append((facet, entity_iri(value)))
    return Filters(tuple(years), tuple(chosen))


def sorted_items(items: list[Item], sort: str, labeller: Labeller) -> list[Item]:
    """The items in the chosen order; ties (and things without a date) by label, then IRI."""

    def by_label(item: Item) -> tuple[str, str]:
        label = labeller.choose(list(item.labels)) if item.labels else None
        return (fold(label) if label else "\uffff" + entity_name(item.iri), item.iri)

    ordered = sorted(items, key=by_label, reverse=sort == "-label")
    if sort in ("date", "-date"):
        dated = [item for item in ordered if item.date]
        undated = [item for item in ordered if not item.date]
        dated.sort(key=lambda item: item.date or "", reverse=sort == "-date")
        ordered = dated + undated
    return ordered


def row_of(item: Item, labeller: Labeller) -> Row:
    node = ox.NamedNode(item.iri)
    label = (labeller.choose(list(item.labels)) if item.labels else None) or labeller.label(node)
    return Row(
        entity_name(item.iri), item.iri, urls.iri_link(item.iri) or item.iri, label, item.date
    )


def facet_view(
    facet: Facet, node: ox.NamedNode, view: ListView, labeller: Labeller
) -> tuple[Facet, list[FacetValue]]:
    """A facet's values over the filtered list, each with a link that adds or removes it:
    years newest first, other values most frequent first."""
    values = []
    for value, count in facet_counts(node, facet, view.filters):
        if facet.predicate is None:
            token, label, selected = value, value, int(value) in view.filters.years
            toggled = view.filters.toggle(facet, int(value))
        else:
            token, label = entity_name(value), labeller.label(ox.NamedNode(value))
            selected = (facet, value) in view.filters.values
            toggled = view.filters.toggle(facet, value)
        values.append(FacetValue(token, label, count, selected, view.url(filters=toggled)))
    if facet.predicate is None:
        values.sort(key=lambda v: v.value, reverse=True)
    else:
        values.sort(key=lambda v: (-v.count, fold(v.label)))
    return facet, values


def selected_filters(view: ListView, labeller: Labeller) -> list[tuple[str, str, str]]:
    """(facet title, value label, link that removes it) for every filter in force."""
    year_facet = next(f for f in FACETS if f.predicate is None)
    chosen: list[tuple[str, str, str]] = []
    for year in view.filters.years:
        remove = view.filters.toggle(year_facet, year)
        chosen.append((year_facet.title, str(year), view.url(filters=remove)))
    for facet, value in view.filters.values:
        remove = view.filters.toggle(facet, value)
        chosen.append((facet.title, labeller.label(ox.NamedNode(value)), view.url(filters=remove)))
    return chosen


def defused(cell: str) -> str:
    """A CSV cell a spreadsheet would run as a formula, with a leading ``'`` (see results)."""
    term = defuse_formula(ox.Literal(cell))
    return term.value if term is not None else cell


def csv_response(rows: list[list[str]], name: str, *, header: list[str] | None = None) -> Response:
    """Rows as CSV (formula-like cells defused for spreadsheets), named for a download."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header or ["id", "iri", "label", "count"])
    writer.writerows([defused(cell) for cell in row] for row in rows)
    response = Response(out.getvalue(), content_type=CSV.content_type)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    response.headers["Content-Disposition"] = f'inline; filename="{safe}.csv"'
    return response
