"""The fingerprint of everything a build reads, taken before it reads any of it as RDF.

Equal fingerprints, equal builds: the same release files (names and bytes), extra RDF files,
settings, build time and code (every file of the package, the ontology and shapes, and the
versions of the libraries that write the output). A build whose fingerprint equals the
published build's takes that build as it is, without converting, validating or loading
anything; any difference, however small, sends it the long way (which still reuses every
file that did not change).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import kg
from kg.ingest.inputs import InputFile
from kg.resources import ontology_dir, shapes_dir

#: libraries whose version can change what a build writes
LIBRARIES = ("pyoxigraph", "rdflib", "pyshacl", "owlrl")
_CODE_SUFFIXES = frozenset({".py", ".tsv", ".txt", ".json", ".ttl", ".csv", ".yaml", ".yml"})


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the package's code and data, the ontology, the shapes and library versions."""
    digest = hashlib.sha256(f"osce-kg {kg.__version__}".encode())
    for library in LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"\x1f{library} {version}".encode())
    package = Path(kg.__file__).parent
    roots = [package, Path(str(ontology_dir())), Path(str(shapes_dir()))]
    for root in roots:
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts
        )
        for path in files:
            digest.update(b"\x1e" + path.relative_to(root).as_posix().encode() + b"\x1f")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def input_fingerprint(
    settings: Sequence[str],
    files: Sequence[InputFile],
    file_digests: Sequence[str],
    extra_rdf: Sequence[Path],
) -> str:
    """A hash of the settings (base, build time, limits), the code, each release file's
    name and SHA-256 (``file_digests``, in the same order) and each extra RDF file's bytes."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for setting in settings:
        digest.update(b"\x1e" + setting.encode())
    for source, sha256 in zip(files, file_digests, strict=True):
        digest.update(f"\x1dfile\x1f{source.name}\x1f{sha256}".encode())
    for number, path in enumerate(extra_rdf):
        with path.open("rb") as stream:
            sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
        digest.update(f"\x1dextra\x1f{number}\x1f{path.name}\x1f{sha256}".encode())
    return digest.hexdigest()
