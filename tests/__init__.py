"""The osce-kg test suite."""
