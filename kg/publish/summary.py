"""The summary of a build (``report/summary.json``): written by the build, read by the server."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BuildSummary:
    """What a build did, as ``summary.json`` keeps it.

    Counts are None when a summary does not record them (a summary written by hand or by an
    older osce-kg): the server shows what is there and says nothing of the rest.
    """

    build_id: str = ""
    base: str = ""  # the base IRI everything was minted under (the server must serve it)
    build_time: str = ""  # ISO date-time; the build's dates (dcterms:modified) use it
    files: int | None = None
    converted: int | None = None  # files converted in this build
    reused: int | None = None  # files taken from the cache
    releases: int | None = None  # releases published
    quarantined: int | None = None  # releases quarantined (report/quarantine.json has them)
    validated: int | None = None  # releases validated in this build (the others: cached verdicts)
    #: what the SPARQL default graph of the store holds: "merge" (the RDF merge of the named
    #: graphs, each triple once) or None (nothing: a build from before the merge was stored)
    default_graph: str | None = None
    graphs: int | None = None
    quads: int | None = None
    triples: int | None = None
    violations_outside_releases: int | None = None
    warnings: int | None = None
    seconds: float | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    #: per dump file: statements ("triples", quads for N-Quads), bytes and sha256
    dumps: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    quarantined_files: tuple[str, ...] = ()
    #: a hash of what the build publishes; a rebuild with the same hash copies this build
    content_digest: str | None = None
    #: a hash of everything the build read (files, settings, code); a rebuild with the same
    #: hash takes this build as it is, before reading anything
    input_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``summary.json``, keys in field order."""
        data = dataclasses.asdict(self)
        data["quarantined_files"] = list(self.quarantined_files)
        return data

    @classmethod
    def from_json(cls, data: object) -> BuildSummary:
        """A summary from its JSON object; unknown keys are ignored, missing ones left unset.

        Raises ValueError naming the field whose value has the wrong type.
        """
        if not isinstance(data, dict):
            raise ValueError(f"the summary is a JSON {type(data).__name__}, not an object")
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name in data and data[spec.name] is not None:
                values[spec.name] = _checked(spec.name, data[spec.name])
        return cls(**values)

    def write(self, path: Path) -> None:
        """Writes the summary as indented UTF-8 JSON."""
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> BuildSummary:
        """Reads a ``summary.json``; OSError when it cannot be read, ValueError when it is bad."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON: {error}") from error
        return cls.from_json(data)


_TEXT = frozenset(
    {"build_id", "base", "build_time", "default_graph", "content_digest", "input_digest"}
)
_MAPPINGS = frozenset({"timings", "dumps"})


def _checked(name: str, value: object) -> Any:
    """The JSON value of a field in the type the field has, or ValueError naming the field."""
    if name in _TEXT:
        ok = isinstance(value, str)
    elif name in _MAPPINGS:
        ok = isinstance(value, dict)
    elif name == "quarantined_files":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok and isinstance(value, list) else value
    elif name == "seconds":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok:
        raise ValueError(f"field {name!r} has a value of the wrong type: {value!r}")
    return value
