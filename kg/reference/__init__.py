"""Reference data: the curated facts tables, the reference graph built from them, the ontologies."""
