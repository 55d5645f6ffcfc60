"""Validation: SHACL over RDF graphs, and the report rendered for data editors."""
