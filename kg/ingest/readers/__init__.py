"""One module per input format; the registry of formats is kg.ingest.formats."""
