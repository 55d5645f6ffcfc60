"""Ingest: finds saved release files and reads each format into raw releases; no extraction."""
