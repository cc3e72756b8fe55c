"""Converters from each benchmark's original release files to SQLite (no TensorFlow, torch or docker)."""
