"""``nasbenchmark generate <benchmark>``: each benchmark's converter command (``generators/<package>/cli.py``),
registered through the ``nasbenchmark.commands`` entry point."""
from __future__ import annotations

import importlib

import click

from nasbenchmark import registry


@click.group()
def generate():
    """Convert a benchmark's original release files to SQLite."""


for _key, _package in registry.BENCHMARK_PACKAGES.items():
    generate.add_command(importlib.import_module(f"generators.{_package.rsplit('.', 1)[-1]}.cli").generate, _key)
