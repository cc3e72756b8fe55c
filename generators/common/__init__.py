"""Pieces every converter shares: input errors, atomic output, restricted unpickling, metadata."""
from .errors import InputError
from .metadata import add_search_index, sha256_file, write_metadata
from .output import atomic_database

__all__ = ["InputError", "atomic_database", "write_metadata", "sha256_file", "add_search_index"]
