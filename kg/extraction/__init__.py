"""Extraction: raw releases to release records (mentions, people, quotes, events), linked."""
