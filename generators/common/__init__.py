"""Pieces every converter shares: input errors, atomic output, restricted unpickling, metadata."""
from .errors import InputError
from .output import atomic_database
from .metadata import write_metadata, sha256_file

__all__ = ["InputError", "atomic_database", "write_metadata", "sha256_file"]
