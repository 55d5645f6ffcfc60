"""A fast SHACL Core check that proves a release graph clean, so pySHACL need not run on it.

pySHACL spends about 2 ms on each release of a build, and most releases get no result at all.
:class:`Precheck` compiles the shapes once (at the start of a build) into plain Python
closures and evaluates them on one release's triples, its context slice and the ontology (the
same data pySHACL sees for that release), held in dictionaries and sets, not an rdflib graph.

It is a *sound pre-check*, never a replacement: :meth:`Precheck.is_clean` answers True only
when it has shown that pySHACL would give the release no result of any severity; anything it
finds, and anything it cannot decide exactly (a comparison it does not model, a blank node
where pySHACL would raise an error, an ``rdfs:subClassOf`` statement outside the ontology),
sends the release to pySHACL as before, so every result document is still pySHACL's. When the
shapes use a construct the checker does not implement (a SPARQL constraint, a target other
than ``sh:targetClass``, a path of more than one step, ...), :func:`compile_precheck` returns
None and the whole build validates with pySHACL alone.

The constraint semantics follow pySHACL's own (``pyshacl.constraints.core``): ``sh:class``
follows ``rdf:type`` then ``rdfs:subClassOf`` in the data graph with the ontology mixed in (no
inference), ``sh:datatype`` rejects ill-typed literals, ``sh:languageIn`` matches a tag or its
first part, value ranges use pySHACL's ``compare_literal``.

Which results count: the build gives a release the results that ``batches._Holders`` assigns
to its graph. A result whose focus node the release does not name never is; one about a node
the context describes (a State the release mentions) goes to the context slice unless it is
about a statement of the release, which for a node the release makes no statement about can
only be a value of an inverse path (``^osce:reportsEvent``). So the check covers every node
the release names, and for a context node only the shapes with inverse paths.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from pyshacl.rdfutil.compare import compare_literal
from rdflib import RDF, RDFS, SH, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

log = logging.getLogger(__name__)

Triple = tuple[Node, Node, Node]
_EMPTY: frozenset[Node] = frozenset()
# looked up once: an rdflib namespace attribute costs a function call each time
_TYPE = RDF.type
_SUBCLASS = RDFS.subClassOf
_SUBCLASS_ONLY = frozenset({_SUBCLASS})  # `in` hashes; rdflib's `==` is a Python call
_XSD_STRING = XSD.string
_XSD_DATE = XSD.date
_LANG_STRING = RDF.langString
_RDFS_LITERAL = RDFS.Literal
_RDFS_DATATYPE = RDFS.Datatype


class Unsupported(Exception):
    """The shapes use something the pre-check does not implement."""


class _Unsure(Exception):
    """The pre-check cannot tell exactly what pySHACL would say about this release."""


#: predicates of a shape that carry no constraint (pySHACL ignores them when validating)
_NON_VALIDATING = frozenset(
    {
        RDF.type,
        RDFS.comment,
        RDFS.label,
        SH.message,
        SH.name,
        SH.description,
        SH.order,
        SH.group,
        SH.severity,
        SH.targetClass,
        SH.deactivated,
        SH.path,
        SH.qualifiedMinCount,
        SH.qualifiedMaxCount,
    }
)
#: a shape that is also a class targets its instances (an implicit class target)
_CLASS_TYPES = (RDFS.Class, URIRef("http://www.w3.org/2002/07/owl#Class"))
#: the shape types pySHACL may meet in our shapes graph
_SHAPE_TYPES = frozenset({SH.NodeShape, SH.PropertyShape})


@dataclass
class _Reads:
    """The predicates the compiled shapes read, forwards and backwards: the rest of a
    release's statements need not be indexed."""

    forward: set[Node] = field(default_factory=lambda: {_TYPE})
    inverse: set[Node] = field(default_factory=set)

    _frozen: tuple[frozenset[Node], frozenset[Node], frozenset[Node]] | None = None

    def frozen(self) -> tuple[frozenset[Node], frozenset[Node], frozenset[Node]]:
        """The forward and inverse predicates, and every predicate to look at (made once)."""
        if self._frozen is None:
            forward, inverse = frozenset(self.forward), frozenset(self.inverse)
            self._frozen = (forward, inverse, forward | inverse | {_SUBCLASS})
        return self._frozen


class _Data:
    """One release's data as pySHACL sees it: its triples, its context slice and the ontology."""

    __slots__ = ("_in", "_ontology", "_out")

    def __init__(self, triples: Iterable[Triple], ontology: _Ontology, reads: _Reads) -> None:
        out: dict[tuple[Node, Node], set[Node]] = {}
        into: dict[tuple[Node, Node], set[Node]] = {}
        forward, inverse, watched = reads.frozen()
        for s, p, o in triples:
            if p not in watched:
                continue  # no shape reads it
            if p in forward:
                out.setdefault((s, p), set()).add(o)
            if p in inverse:
                into.setdefault((o, p), set()).add(s)
            if p in _SUBCLASS_ONLY and o not in ontology.out.get((s, p), _EMPTY):
                raise _Unsure("a class hierarchy outside the ontology")
        self._out = out
        self._in = into
        self._ontology = ontology

    def objects(self, subject: Node, predicate: Node) -> frozenset[Node] | set[Node]:
        key = (subject, predicate)
        found = self._out.get(key)
        extra = self._ontology.out.get(key)
        if extra is None:
            return found if found is not None else _EMPTY
        return extra if found is None else found | extra

    def subjects(self, obj: Node, predicate: Node) -> frozenset[Node] | set[Node]:
        key = (obj, predicate)
        found = self._in.get(key)
        extra = self._ontology.into.get(key)
        if extra is None:
            return found if found is not None else _EMPTY
        return extra if found is None else found | extra

    def is_instance(self, node: Node, cls: Node) -> bool:
        """``node rdf:type/rdfs:subClassOf* cls`` (pySHACL's sh:class test)."""
        if isinstance(node, Literal):
            return False
        superclasses = self._ontology.superclasses
        return any(cls in superclasses(t) for t in self.objects(node, _TYPE))


class _Ontology:
    """The ontology's statements indexed both ways, and its subclass closure."""

    def __init__(self, ontology: Graph) -> None:
        self.out: dict[tuple[Node, Node], frozenset[Node]] = {}
        self.into: dict[tuple[Node, Node], frozenset[Node]] = {}
        out: dict[tuple[Node, Node], set[Node]] = {}
        into: dict[tuple[Node, Node], set[Node]] = {}
        for s, p, o in ontology:
            out.setdefault((s, p), set()).add(o)
            into.setdefault((o, p), set()).add(s)
        self.out = {k: frozenset(v) for k, v in out.items()}
        self.into = {k: frozenset(v) for k, v in into.items()}
        self._closure: dict[Node, frozenset[Node]] = {}

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """``cls`` and every class it is an ``rdfs:subClassOf`` of, transitively."""
        found = self._closure.get(cls)
        if found is None:
            seen = {cls}
            pending = [cls]
            while pending:
                for parent in self.out.get((pending.pop(), _SUBCLASS), ()):
                    if parent not in seen:
                        seen.add(parent)
                        pending.append(parent)
            found = self._closure[cls] = frozenset(seen)
        return found


Check = Callable[[Sequence[Node], Node, _Data], bool]


@dataclass(eq=False)
class _Shape:
    """A compiled shape: how to get its value nodes, and its checks on them."""

    node: Node
    path: URIRef | None = None
    inverse: bool = False
    deactivated: bool = False
    #: every constraint but sh:property
    checks: list[Check] = field(default_factory=list)
    #: the shapes of its sh:property (a node shape's only: see _Compiler.shape)
    properties: list[_Shape] = field(default_factory=list)

    def values(self, focus: Node, data: _Data) -> Sequence[Node]:
        if self.path is None:
            return (focus,)
        if self.inverse:
            return tuple(data.subjects(focus, self.path))
        return tuple(data.objects(focus, self.path))

    def own_checks_pass(self, focus: Node, data: _Data) -> bool:
        """True when no constraint of the shape itself (not of its sh:property) fails."""
        values = self.values(focus, data)
        return all(check(values, focus, data) for check in self.checks)

    def conforms(self, focus: Node, data: _Data) -> bool:
        """True when validating ``focus`` against this shape gives no result."""
        if self.deactivated:
            return True
        return self.own_checks_pass(focus, data) and all(
            p.conforms(focus, data) for p in self.properties
        )


@dataclass(frozen=True, eq=False)
class _Unit:
    """What pySHACL reports under one source shape for a focus node of a targeted shape: the
    constraints of a targeted shape itself, or one property shape of a targeted node shape."""

    shape: _Shape
    passes: Callable[[Node, _Data], bool]
    #: its path is inverse: only such a result can be about a statement pointing at the focus
    inverse: bool


def _units(shape: _Shape) -> list[_Unit]:
    if shape.deactivated:
        return []
    if shape.path is not None:
        return [_Unit(shape, shape.conforms, shape.inverse)]
    units = [_Unit(shape, shape.own_checks_pass, False)] if shape.checks else []
    return units + [_Unit(p, p.conforms, p.inverse) for p in shape.properties]


class Precheck:
    """The shapes compiled for the pre-check; see the module docstring."""

    def __init__(
        self, targets: dict[Node, tuple[_Shape, ...]], ontology: _Ontology, reads: _Reads
    ) -> None:
        self._targets = targets  # target class -> the shapes targeting it
        self._ontology = ontology
        self._reads = reads
        self._by_type: dict[Node, tuple[_Unit, ...]] = {}

    def _units_for_type(self, cls: Node) -> tuple[_Unit, ...]:
        found = self._by_type.get(cls)
        if found is None:
            units: dict[tuple[_Shape, bool], _Unit] = {}
            for parent in self._ontology.superclasses(cls):
                for shape in self._targets.get(parent, ()):
                    for unit in _units(shape):
                        units.setdefault((unit.shape, unit.passes == unit.shape.conforms), unit)
            found = self._by_type[cls] = tuple(units.values())
        return found

    def is_clean(self, release: Sequence[Triple], context_slice: Sequence[Triple]) -> bool:
        """True when pySHACL is sure to give this release (with its slice) no result."""
        try:
            return next(self._failures(release, context_slice), None) is None
        except _Unsure as why:
            log.debug("pre-check leaves a release to pySHACL: %s", why)
            return False
        except Exception:  # anything unexpected: pySHACL decides, as without the pre-check
            log.debug("pre-check failed on a release; pySHACL validates it", exc_info=True)
            return False

    def failures(
        self, release: Sequence[Triple], context_slice: Sequence[Triple]
    ) -> set[tuple[Node, Node]] | None:
        """Each (focus node, source shape) the pre-check expects pySHACL to report for this
        release, or None when it cannot tell (pySHACL must decide). For tests and debugging."""
        try:
            return set(self._failures(release, context_slice))
        except _Unsure:
            return None

    def _failures(
        self, release: Sequence[Triple], context_slice: Sequence[Triple]
    ) -> Iterator[tuple[Node, Node]]:
        data = _Data([*release, *context_slice], self._ontology, self._reads)
        subjects = {s for s, _, _ in release}
        described = {s for s, _, _ in context_slice}
        nodes = dict.fromkeys(subjects)
        for _, _, o in release:
            if not isinstance(o, Literal):
                nodes[o] = None
        for node in nodes:
            units: dict[_Unit, None] = {}
            for cls in data.objects(node, _TYPE):
                units.update(dict.fromkeys(self._units_for_type(cls)))
            # a node the context describes and the release only points at: a result about it
            # goes to the context slice, unless it is about a statement pointing at it
            only_inverse = node not in subjects and node in described
            for unit in units:
                if only_inverse and not unit.inverse:
                    continue
                if not unit.passes(node, data):
                    yield node, unit.shape.node


def compile_precheck(shapes: Graph, ontology: Graph) -> Precheck | None:
    """The pre-check for these shapes, or None when they use something it does not implement
    (then every release is validated by pySHACL)."""
    try:
        return _Compiler(shapes).compile(ontology)
    except Unsupported as why:
        log.debug("SHACL pre-check disabled for this build: %s", why)
        return None


class _Compiler:
    """Turns the shapes graph into :class:`_Shape` objects, refusing what it cannot model."""

    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self.compiled: dict[Node, _Shape] = {}
        self.reads = _Reads()

    def compile(self, ontology: Graph) -> Precheck:
        self._refuse_unknown_vocabulary()
        targets: dict[Node, list[_Shape]] = {}
        for shape_node, cls in self.graph.subject_objects(SH.targetClass):
            targets.setdefault(cls, []).append(self.shape(shape_node))
        compiled = {cls: tuple(dict.fromkeys(found)) for cls, found in targets.items()}
        return Precheck(compiled, _Ontology(ontology), self.reads)

    def _refuse_unknown_vocabulary(self) -> None:
        known = _NON_VALIDATING | set(_CONSTRAINTS) | {SH.inversePath, SH.property}
        for s, p, o in self.graph:
            if str(p).startswith(str(SH)) and p not in known:
                raise Unsupported(f"{p} (on {s})")
            if p == _TYPE and str(o).startswith(str(SH)) and o not in _SHAPE_TYPES:
                raise Unsupported(f"{s} is a {o}")
            if p == _TYPE and o in _CLASS_TYPES and self._is_shape(s):
                raise Unsupported(f"implicit class target {s}")

    def _is_shape(self, node: Node) -> bool:
        return any(
            (node, p, None) in self.graph for p in (SH.path, SH.property, SH.targetClass)
        ) or any((node, _TYPE, t) in self.graph for t in _SHAPE_TYPES)

    def shape(self, node: Node) -> _Shape:
        found = self.compiled.get(node)
        if found is not None:
            return found
        shape = self.compiled[node] = _Shape(node)
        shape.deactivated = self._deactivated(node)
        shape.path, shape.inverse = self._path(node)
        shape.properties = [self.shape(p) for p in self._objects(node, SH.property)]
        if shape.path is not None and shape.properties:
            raise Unsupported(f"sh:property on the property shape {node}")
        for predicate in set(self.graph.predicates(node)):
            make = _CONSTRAINTS.get(predicate) if isinstance(predicate, URIRef) else None
            if make is not None:
                assert isinstance(predicate, URIRef)
                shape.checks.extend(make(self, node, self._objects(node, predicate)))
        return shape

    def _objects(self, node: Node, predicate: URIRef) -> list[Node]:
        return list(self.graph.objects(node, predicate))

    def _deactivated(self, node: Node) -> bool:
        values = self._objects(node, SH.deactivated)
        if not values:
            return False
        if len(values) > 1 or not isinstance(values[0], Literal):
            raise Unsupported(f"sh:deactivated of {node}")
        return bool(values[0].value) is True

    def _path(self, node: Node) -> tuple[URIRef | None, bool]:
        paths = self._objects(node, SH.path)
        if not paths:
            return None, False
        if len(paths) > 1:
            raise Unsupported(f"several sh:path on {node}")
        path = paths[0]
        if isinstance(path, URIRef):
            self.reads.forward.add(path)
            return path, False
        inverse = self._objects(path, SH.inversePath)
        if (
            len(inverse) == 1
            and isinstance(inverse[0], URIRef)
            and len(set(self.graph.predicate_objects(path))) == 1
        ):
            self.reads.inverse.add(inverse[0])
            return inverse[0], True
        raise Unsupported(f"the path of {node}")

    def single(self, node: Node, values: list[Node], name: str) -> Node:
        if len(values) != 1:
            raise Unsupported(f"{name} of {node} has {len(values)} values")
        return values[0]

    def integer(self, node: Node, values: list[Node], name: str) -> int:
        value = self.single(node, values, name)
        if not isinstance(value, Literal) or not isinstance(value.value, int):
            raise Unsupported(f"{name} of {node} is not an integer")
        return int(value.value)

    def items(self, node: Node) -> list[Node]:
        return list(Collection(self.graph, node))


# -- constraint components: each makes the checks of one sh: parameter ------------------------


def _min_count(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    n = compiler.integer(node, values, "sh:minCount")
    return [lambda vs, f, d: len(vs) >= n]


def _max_count(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    n = compiler.integer(node, values, "sh:maxCount")
    return [lambda vs, f, d: len(vs) <= n]


def _class(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(cls: Node) -> Check:
        return lambda vs, f, d: all(d.is_instance(v, cls) for v in vs)

    return [make(cls) for cls in values]


def _datatype(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    datatype = compiler.single(node, values, "sh:datatype")
    if not isinstance(datatype, URIRef):
        raise Unsupported(f"sh:datatype of {node}")
    return [lambda vs, f, d: all(_has_datatype(v, datatype) for v in vs)]


_PYTHON_TYPES: dict[URIRef, type | tuple[type, ...]] = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: int,
    XSD.float: float,
    XSD.decimal: Decimal,
    XSD.boolean: bool,
    XSD.date: date,
    XSD.time: time,
    XSD.dateTime: datetime,
}


def _has_datatype(value: Node, datatype: URIRef) -> bool:
    """pySHACL's DatatypeConstraintComponent on one value node."""
    if not isinstance(value, Literal):
        return False
    python_type = _PYTHON_TYPES.get(datatype)
    if value.datatype == datatype:
        if getattr(value, "ill_typed", None) is True:
            return False
    elif datatype == _RDFS_LITERAL or (datatype == _RDFS_DATATYPE and value.datatype):
        return True
    elif not (
        value.datatype is None and value.language is None and datatype == _XSD_STRING
    ) and not (datatype == _LANG_STRING and value.language):
        return False
    return python_type is None or isinstance(value.value, python_type)


_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (URIRef,),
    SH.Literal: (Literal,),
    SH.BlankNode: (BNode,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}


def _node_kind(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    kinds = _NODE_KINDS.get(compiler.single(node, values, "sh:nodeKind"))
    if kinds is None:
        raise Unsupported(f"sh:nodeKind of {node}")
    return [lambda vs, f, d: all(isinstance(v, kinds) for v in vs)]


def _node(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(shape: _Shape) -> Check:
        return lambda vs, f, d: all(shape.conforms(v, d) for v in vs)

    return [make(compiler.shape(s)) for s in values]


def _or(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(members: list[_Shape]) -> Check:
        return lambda vs, f, d: all(any(s.conforms(v, d) for s in members) for v in vs)

    return [make([compiler.shape(s) for s in compiler.items(lst)]) for lst in values]


def _and(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(members: list[_Shape]) -> Check:
        return lambda vs, f, d: all(all(s.conforms(v, d) for s in members) for v in vs)

    return [make([compiler.shape(s) for s in compiler.items(lst)]) for lst in values]


def _not(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(shape: _Shape) -> Check:
        return lambda vs, f, d: not any(shape.conforms(v, d) for v in vs)

    return [make(compiler.shape(s)) for s in values]


def _has_value(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(wanted: Node) -> Check:
        return lambda vs, f, d: wanted in vs

    return [make(v) for v in values]


def _as_string(value: Node) -> str:
    """pySHACL's string form of a value node (``value_node_to_string``)."""
    plain = isinstance(value, Literal) and value.datatype in (None, _LANG_STRING, _XSD_STRING)
    if plain and isinstance(value, Literal) and value.value is not None:
        return str(value.value)
    return str(value)


def _min_length(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    n = compiler.integer(node, values, "sh:minLength")
    if n == 0:
        return []
    return [lambda vs, f, d: all(not isinstance(v, BNode) and len(_as_string(v)) >= n for v in vs)]


def _pattern(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    if (node, SH.flags, None) in compiler.graph:
        raise Unsupported(f"sh:flags on {node}")

    def make(pattern: re.Pattern[str]) -> Check:
        return lambda vs, f, d: all(
            not isinstance(v, BNode) and pattern.search(_as_string(v)) is not None for v in vs
        )

    checks = []
    for value in values:
        if not isinstance(value, Literal):
            raise Unsupported(f"sh:pattern of {node}")
        checks.append(make(re.compile(str(value))))
    return checks


def _language_in(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    wanted = {str(item).lower() for item in compiler.items(compiler.single(node, values, "list"))}

    def allowed(value: Node) -> bool:
        if not isinstance(value, Literal) or not value.language:
            return False
        lang = str(value.language).lower()
        return "*" in wanted or lang in wanted or lang.split("-")[0] in wanted

    return [lambda vs, f, d: all(allowed(v) for v in vs)]


def _unique_lang(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    flag = compiler.single(node, values, "sh:uniqueLang")
    if not isinstance(flag, Literal) or not isinstance(flag.value, bool):
        raise Unsupported(f"sh:uniqueLang of {node}")
    if not flag.value:
        return []

    def unique(vs: Sequence[Node], f: Node, d: _Data) -> bool:
        langs = [str(v.language).lower() for v in vs if isinstance(v, Literal) and v.language]
        return len(langs) == len(set(langs))

    return [unique]


def _qualified(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    shape = compiler.shape(compiler.single(node, values, "sh:qualifiedValueShape"))
    if (node, SH.qualifiedValueShapesDisjoint, None) in compiler.graph:
        raise Unsupported(f"sh:qualifiedValueShapesDisjoint on {node}")
    low = compiler._objects(node, SH.qualifiedMinCount)
    high = compiler._objects(node, SH.qualifiedMaxCount)
    least = compiler.integer(node, low, "sh:qualifiedMinCount") if low else None
    most = compiler.integer(node, high, "sh:qualifiedMaxCount") if high else None

    def check(vs: Sequence[Node], f: Node, d: _Data) -> bool:
        count = sum(1 for v in vs if shape.conforms(v, d))
        return (least is None or count >= least) and (most is None or count <= most)

    return [check]


def _range(name: str, passes: Callable[[int], bool]) -> Callable[..., list[Check]]:
    def component(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
        bound = compiler.single(node, values, name)
        if not isinstance(bound, Literal):
            raise Unsupported(f"{name} of {node}")
        bound_is_string = isinstance(bound.value, str)

        def within(value: Node) -> bool:
            if not isinstance(value, Literal):
                return False
            if isinstance(value.value, str) != bound_is_string:
                return False
            try:
                return passes(compare_literal(value, bound))  # type: ignore[no-untyped-call]
            except (TypeError, NotImplementedError):
                return False

        return [lambda vs, f, d: all(within(v) for v in vs)]

    return component


def _less_than_or_equals(compiler: _Compiler, node: Node, values: list[Node]) -> list[Check]:
    def make(other: Node) -> Check:
        def check(vs: Sequence[Node], f: Node, d: _Data) -> bool:
            others = d.objects(f, other)
            if not vs or not others:
                return True
            for v in vs:
                for w in others:
                    if not (_plain_date(v) and _plain_date(w)):
                        raise _Unsure("sh:lessThanOrEquals on values other than xsd:date")
                    assert isinstance(v, Literal) and isinstance(w, Literal)
                    if not v.value <= w.value:
                        return False
            return True

        return check

    for other in values:
        if not isinstance(other, URIRef):
            raise Unsupported(f"sh:lessThanOrEquals of {node}")
        compiler.reads.forward.add(other)
    return [make(other) for other in values]


def _plain_date(value: Node) -> bool:
    return (
        isinstance(value, Literal)
        and value.datatype == _XSD_DATE
        and type(value.value) is date
        and getattr(value, "ill_typed", None) is not True
    )


_CONSTRAINTS: dict[URIRef, Callable[[_Compiler, Node, list[Node]], list[Check]]] = {
    SH.minCount: _min_count,
    SH.maxCount: _max_count,
    SH["class"]: _class,
    SH.datatype: _datatype,
    SH.nodeKind: _node_kind,
    SH.node: _node,
    SH["or"]: _or,
    SH["and"]: _and,
    SH["not"]: _not,
    SH.hasValue: _has_value,
    SH.minLength: _min_length,
    SH.pattern: _pattern,
    SH.languageIn: _language_in,
    SH.uniqueLang: _unique_lang,
    SH.qualifiedValueShape: _qualified,
    SH.minInclusive: _range("sh:minInclusive", lambda c: c >= 0),
    SH.maxInclusive: _range("sh:maxInclusive", lambda c: c <= 0),
    SH.lessThanOrEquals: _less_than_or_equals,
}
