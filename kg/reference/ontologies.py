"""Loads the shipped OSCE ontology and its SKOS vocabularies as rdflib graphs.

(Not ``kg/ontology.py``: that name would shadow the ``kg.ontology`` package a wheel ships the
Turtle files in, and ``kg.resources.ontology_dir()`` would break.)
"""

from __future__ import annotations

import logging

import owlrl
from owlrl.Namespaces import ERRNS
from rdflib import Graph
from rdflib.namespace import OWL, RDF

from kg.errors import InputError
from kg.rdf.vocab import bind_prefixes
from kg.resources import ontology_dir

log = logging.getLogger(__name__)

#: The ontology proper (OWL) and the SKOS vocabularies, as file names in ``ontology/``.
ONTOLOGY_FILE = "osce.ttl"
VOCABULARIES_FILE = "vocabularies.ttl"


def parse_shipped_turtle(name: str) -> Graph:
    """One Turtle file of the shipped ``ontology/`` folder, parsed."""
    source = ontology_dir().joinpath(name)
    graph = bind_prefixes(Graph())
    try:
        graph.parse(data=source.read_text(encoding="utf-8"), format="turtle")
    except FileNotFoundError as error:
        raise InputError(
            str(source), None, "ontology file is missing", hint="reinstall osce-kg"
        ) from error
    except Exception as error:  # rdflib raises SyntaxError subclasses, and others on truncation
        raise InputError(
            str(source), None, f"not valid Turtle: {error}", hint="fix the file"
        ) from error
    log.debug("loaded %d triples from %s", len(graph), name)
    return graph


def load_ontology() -> Graph:
    """The OWL ontology (classes, properties, alignments) from ``ontology/osce.ttl``."""
    return parse_shipped_turtle(ONTOLOGY_FILE)


def load_vocabularies() -> Graph:
    """The SKOS concept schemes from ``ontology/vocabularies.ttl``."""
    return parse_shipped_turtle(VOCABULARIES_FILE)


def load_ontology_and_vocabularies() -> Graph:
    """Both, merged into one graph (for reasoning and for class checks in validation)."""
    graph = load_ontology()
    graph += load_vocabularies()
    return graph


def find_inconsistencies(graph: Graph) -> list[str]:
    """What OWL-RL reasoning over (a copy of) the graph finds inconsistent, in words.

    Empty when the graph is consistent: no member of owl:Nothing, no clash of owl:sameAs with
    owl:differentFrom, no individual in two disjoint classes, no other OWL-RL error.
    """
    closure = Graph()
    for triple in graph:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    problems = sorted(str(m) for m in closure.objects(None, ERRNS.error))
    for member in sorted(str(m) for m in closure.subjects(RDF.type, OWL.Nothing)):
        problems.append(f"{member} is a member of owl:Nothing")
    return problems
