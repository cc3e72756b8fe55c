"""``python -m site_builder [--out site] [--dir NASBENCHMARK_DIR]``: build the static site."""
from .cli import build_site

build_site(prog_name="python -m site_builder")
