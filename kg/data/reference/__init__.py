"""The curated facts tables the reference graph is built from."""
