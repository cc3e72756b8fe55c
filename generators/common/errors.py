"""Converters raise the helper's ``InputError`` for bad input (the CLI prints it as one line, exit 1)."""
from nasbenchmark.errors import InputError

__all__ = ["InputError"]
