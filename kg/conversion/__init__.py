"""Conversion: one saved release file to release graphs (map records to RDF), with a cache."""
