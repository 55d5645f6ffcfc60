"""Publish: builds from inputs, validates, writes the store, dumps and report, swaps it live."""
