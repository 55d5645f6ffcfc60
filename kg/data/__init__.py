"""Data shipped with the package: reference tables and sample releases."""
