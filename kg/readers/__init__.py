"""Readers that turn saved release files of each format into release records."""
