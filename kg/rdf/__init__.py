"""The RDF foundation: vocabulary namespaces, IRI minting, quads and reading RDF files."""
