"""Sample release files, with gold records, bundled for the default build."""
