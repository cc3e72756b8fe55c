"""The site's API reference (site_builder.apidocs) and the helper's wheel (site_builder.wheel)."""
from __future__ import annotations

import email.parser
import hashlib
import importlib
import importlib.util
import re
import subprocess
import sys
import types
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import pytest

from nasbenchmark import registry
from site_builder import apidocs, wheel

REPO = Path(__file__).resolve().parent.parent
# Stands in for the site's templates/base.html: the same blocks and the `root` prefix.
STAND_IN_BASE = """<!doctype html><html><head><title>{% block title %}{% endblock %}</title>
{% block head %}{% endblock %}</head><body><nav><a href="{{ root }}index.html">home</a></nav>
<main>{% block content %}{% endblock %}</main></body></html>"""
FAKE_WHEEL = {"filename": "nasbenchmark-0.1.0-py3-none-any.whl",
              "url": "downloads/nasbenchmark-0.1.0-py3-none-any.whl",
              "sha256": "ab" * 32, "size": 12345, "pip_line": "pip install nasbenchmark-0.1.0-py3-none-any.whl"}


class _Page(HTMLParser):
    """The ids, hrefs and text of one HTML page."""

    def __init__(self, html: str):
        super().__init__()
        self.ids, self.hrefs, self.text_parts = set(), [], []
        self.feed(html)
        self.text = "".join(self.text_parts)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])

    def handle_data(self, data):
        self.text_parts.append(data)


def _environment(*loaders: jinja2.BaseLoader) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.ChoiceLoader(list(loaders)), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def stand_in_environment() -> jinja2.Environment:
    return _environment(jinja2.DictLoader({"base.html": STAND_IN_BASE}), jinja2.FileSystemLoader(REPO / "templates"))


def documented_packages() -> list[str]:
    """Registered benchmark packages that exist as real packages right now."""
    found = []
    for package in registry.BENCHMARK_PACKAGES.values():
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        if getattr(module, "__file__", None):
            found.append(package)
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    written = apidocs.render(stand_in_environment(), out, {"wheel": FAKE_WHEEL})
    assert sorted(path.name for path in written) == sorted(path.name for path in (out / "api").iterdir())
    return out


def page(site: Path, name: str) -> str:
    return (site / "api" / name).read_text(encoding="utf-8")


def article(html: str, anchor: str) -> str:
    """The HTML of the member whose id is ``anchor``."""
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</article>", start)]


def test_every_public_name_of_each_benchmark_package_has_an_entry(site):
    packages = documented_packages()
    assert "nasbenchmark.nasbench201" in packages
    for package in packages:
        parsed = _Page(page(site, f"{package}.html"))
        index = _Page(page(site, "index.html"))
        for name in importlib.import_module(package).__all__:
            assert name in parsed.ids, f"{package}.{name} has no entry"
            assert f"{package}.html#{name}" in index.hrefs, f"{package}.{name} missing from the index"


def test_signatures_render_without_quoted_annotations(site):
    text = _Page(page(site, "nasbenchmark.nasbench201.html")).text
    assert ("query_nb201_computed_stats(arch, num_epochs, dataset, reduction=None, include_intermediates=False)"
            " -> Iterator[dict]") in text
    assert "bind(path: Path | str | None = None) -> peewee.SqliteDatabase" in text
    assert "arch_str_to_dict(arch_str: str) -> dict[str, str]" in text


def test_aliases_point_to_the_same_object(site):
    for package in documented_packages():
        module = importlib.import_module(package)
        html = page(site, f"{package}.html")
        aliases = [name for name in module.__all__
                   if callable(getattr(module, name)) and getattr(module, name).__name__ != name]
        for name in aliases:
            target = getattr(module, name).__name__
            assert "Alias of" in article(html, name)
            if target in module.__all__:
                assert f'href="#{target}"' in article(html, name)
    html = page(site, "nasbenchmark.nasbench201.html")
    assert 'Alias of <a href="#Nb201RunConfig">' in article(html, "Nb201TrialConfig")
    assert 'Alias of <a href="#query_nb201_computed_stats">' in article(html, "query_nb201_trial_stats")


def test_models_show_table_fields_and_foreign_keys(site):
    html = article(page(site, "nasbenchmark.nasbench201.html"), "Nb201ComputedStats")
    assert "Table nb201trialstats, primary key id." in _Page(html).text
    config_row = next(row for row in html.split("<tr>") if "<td><code>config</code></td>" in row)
    cells = [" ".join(_Page(cell).text.split()) for cell in config_row.split("<td>")[1:]]
    assert cells[:5] == ["config", "config_id", "ForeignKeyField INT", "no", "index"]
    assert cells[5].startswith("Nb201RunConfig.id") and cells[5].endswith("backref trial_stats")
    assert '<a href="#Nb201RunConfig">' in config_row
    seed_row = next(row for row in html.split("<tr>") if "<td><code>seed</code></td>" in row)
    assert "Training seed (777, 888, 999" in seed_row  # the column description from the catalog
    intermediates = _Page(article(page(site, "nasbenchmark.nasbench201.html"), "Nb201IntermediateStats")).text
    assert "primary key trial, current_epoch" in intermediates


def test_constants_show_values_and_comments(site):
    html = page(site, "nasbenchmark.nasbench201.html")
    primitives = _Page(article(html, "PRIMITIVES")).text
    assert "PRIMITIVES = ['none', 'skip_connect', 'conv_1x1', 'conv_3x3', 'avg_pool_3x3']" in primitives
    assert "Op index order of the original str2matrix" in primitives


def test_numpydoc_sections_become_definition_lists(site):
    html = article(page(site, "nasbenchmark.nasbench201.html"), "query_nb201_computed_stats")
    assert "<h4>Parameters</h4>" in html and "<h4>Returns</h4>" in html
    assert '<dt>num_epochs<span class="classifier">int or None</span></dt>' in html
    assert '<pre class="code python doctest">&gt;&gt;&gt; arch = ' in html


def test_database_and_cli_pages(site):
    database_text = _Page(page(site, "nasbenchmark.database.html")).text
    for name in ("database_dir", "database_path", "close_all", "BenchmarkDatabase.bind",
                 "ENV_DIR = 'NASBENCHMARK_DIR'",
                 "$NASBENCHMARK_DIR/nasbench201.db", "~/.nni/nasbenchmark/nasbench201.db"):
        assert name in database_text
    cli_page = _Page(page(site, "nasbenchmark.cli.html"))
    for path in ("nasbenchmark", "nasbenchmark generate nb201", "nasbenchmark query nb201", "nasbenchmark info"):
        assert "cmd-" + path.replace(" ", "-") in cli_page.ids
    assert "--limit INTEGER RANGE" in cli_page.text and "Include per-epoch rows." in cli_page.text
    assert "Usage: nasbenchmark query nb201 [OPTIONS]" in cli_page.text


def test_index_has_the_install_line_from_the_wheel(site):
    index = page(site, "index.html")
    assert FAKE_WHEEL["pip_line"] in index and FAKE_WHEEL["sha256"] in index
    assert f'href="../{FAKE_WHEEL["url"]}"' in index
    nb201 = page(site, "nasbenchmark.nasbench201.html")
    assert "pip install &#39;nasbenchmark-0.1.0-py3-none-any.whl[cli]&#39;" in nb201


def test_internal_links_between_api_pages_resolve(site):
    api = site / "api"
    pages = {path.name: _Page(path.read_text(encoding="utf-8")) for path in api.glob("*.html")}
    checked = 0
    for name, parsed in pages.items():
        for href in parsed.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.path.startswith("../"):
                continue  # another part of the site: the site builder's own link check covers it
            target = parts.path or name
            assert target in pages, f"{name}: broken link {href}"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{name}: no anchor for {href}"
            checked += 1
    assert checked > 100


def test_example_scripts_run_against_a_database(site, nasbenchmark_dir, tmp_path):
    """The nb201 page's Python snippets (taken from docstrings) run as they are."""
    from synthetic_nb201 import build_nb201_db

    build_nb201_db(nasbenchmark_dir / "nasbench201.db", num_archs=30)
    nb201 = apidocs.benchmark_page("nasbenchmark.nasbench201")
    scripts = [snippet.code for snippet in nb201.snippets if snippet.language == "python"]
    assert len(scripts) == 2
    first = subprocess.run([sys.executable, "-c", scripts[0]], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert 0 < float(first.stdout) <= 100  # mean test accuracy of arch 0, 200 epochs, cifar100
    database_scripts = [snippet.code for snippet in apidocs.module_page("nasbenchmark.database").snippets
                        if snippet.language == "python"]
    for script in scripts[1:] + database_scripts:
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(nasbenchmark_dir)  # database.database_dir()


def test_doctest_script_prints_expressions_and_imports_exports():
    doc = ">>> x = f(1)\n>>> g(x)\n2\n>>> print(x)\n1\n"
    script = apidocs.doctest_script(doc, "pkg", ["f", "g", "h"])
    assert script == "from pkg import f, g\nx = f(1)\nprint(g(x))\nprint(x)"
    assert apidocs.doctest_script("No examples here.", "pkg", ["f"]) is None


@pytest.fixture
def fake_benchmark(monkeypatch):
    """A tiny benchmark package whose docstrings try to inject HTML."""
    package = types.ModuleType("fake_bench", "Fake benchmark <script>alert('module')</script>.\n\n>>> answer()\n")
    package.__file__ = "fake_bench/__init__.py"

    def answer(limit: int = 3):
        """Return <b>42</b> <script>alert('doc')</script>.

        Parameters
        ----------
        limit : int
            At most ``limit`` rows <img src=x onerror=alert(1)>.
        """
        return 42

    def undocumented():
        return None

    for function in (answer, undocumented):
        function.__module__ = "fake_bench.query"
    package.answer, package.undocumented, package.LIMIT = answer, undocumented, "<script>"
    package.answer_alias = answer
    package.__all__ = ["answer", "answer_alias", "undocumented", "LIMIT"]
    monkeypatch.setitem(sys.modules, "fake_bench", package)
    return package


def test_docstrings_and_values_are_escaped(fake_benchmark, tmp_path):
    apidocs.render(stand_in_environment(), tmp_path, {"wheel": None}, benchmark_packages=["fake_bench"])
    html = (tmp_path / "api" / "fake_bench.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;doc&#x27;)&lt;/script&gt;" in html or "&lt;script&gt;alert('doc')" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "LIMIT = &#39;&lt;script&gt;&#39;" in html
    assert '<dt>limit<span class="classifier">int</span></dt>' in html
    assert 'Alias of <a href="#answer">' in html
    assert "No docstring." in article(html, "undocumented")
    assert "print(answer())" in html  # the module docstring's example, as a script
    fake_page = apidocs.benchmark_page("fake_bench")
    assert apidocs.missing_docstrings(fake_page) == ["fake_bench.undocumented"]
    assert "pip install &#39;.[cli]&#39;" in html  # no wheel in this build: install from a checkout


def test_absent_benchmark_package_is_skipped():
    assert apidocs.benchmark_page("nasbenchmark.no_such_benchmark") is None


@pytest.mark.skipif(not (REPO / "templates" / "base.html").exists(), reason="the site's base.html is not there yet")
def test_renders_with_the_site_base_template(tmp_path):
    env = _environment(jinja2.FileSystemLoader(REPO / "templates"))
    context = {"benchmarks_all": registry.benchmarks(), "available_keys": set(), "wheel": FAKE_WHEEL, "synthetic": False,
               "version": "0.1.0"}
    apidocs.render(env, tmp_path, context)
    index = _Page((tmp_path / "api" / "index.html").read_text(encoding="utf-8"))
    assert "../api/index.html" in index.hrefs and "Python API" in index.text


# --- the wheel -------------------------------------------------------------------------------


def _requires_dist(wheel_path: Path) -> list[str]:
    with zipfile.ZipFile(wheel_path) as archive:
        metadata_name = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    return metadata.get_all("Requires-Dist") or []


def test_wheel_of_the_repo_describes_itself(tmp_path):
    info = wheel.build_wheel(tmp_path / "site", cache_dir=tmp_path / "cache")
    path = tmp_path / "site" / info["url"]
    assert info["url"] == f"downloads/{info['filename']}" and path.is_file()
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["size"] == path.stat().st_size
    assert info["pip_line"] == f"pip install {info['filename']}"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"nasbenchmark/__init__.py", "nasbenchmark/nasbench201/query.py"} <= names
    required = [line for line in _requires_dist(path) if "extra ==" not in line]
    assert [re.match(r"[A-Za-z0-9_.-]+", line).group(0) for line in required] == ["peewee"]


def _tiny_repo(root: Path) -> Path:
    (root / "tinypkg").mkdir(parents=True)
    (root / "tinypkg" / "__init__.py").write_text("VALUE = 1\n")
    (root / "tinypkg" / "node_modules").mkdir()
    (root / "tinypkg" / "node_modules" / "big.json").write_text("{}")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")
    (root / "README.md").write_text("tiny\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tinypkg"\nversion = "1.0"\nreadme = "README.md"\ndependencies = ["peewee"]\n'
        '[tool.setuptools.packages.find]\ninclude = ["tinypkg*"]\n')
    return root


def test_source_hash_follows_only_packed_files(tmp_path):
    repo = _tiny_repo(tmp_path / "repo")

    pyproject = (repo / "pyproject.toml").read_text()

    def current_hash() -> str:
        return wheel.source_hash({path: (repo / path).read_bytes() for path in wheel.package_sources(repo, pyproject)})

    sources = wheel.package_sources(repo, pyproject)
    assert [path.as_posix() for path in sources] == ["pyproject.toml", "README.md", "tinypkg/__init__.py"]
    before = current_hash()
    (repo / "tests" / "test_x.py").write_text("changed")
    (repo / "tinypkg" / "node_modules" / "big.json").write_text("[1]")
    assert current_hash() == before
    (repo / "tinypkg" / "__init__.py").write_text("VALUE = 2\n")
    assert current_hash() != before


def test_wheel_falls_back_to_pip_and_is_cached(tmp_path, monkeypatch):
    repo = _tiny_repo(tmp_path / "repo")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "build" else real_find_spec(name, *args))
    assert wheel._build_command(repo, tmp_path)[1:4] == ["-m", "pip", "wheel"]
    info = wheel.build_wheel(tmp_path / "site", cache_dir=tmp_path / "cache", repo=repo)
    assert info["filename"] == "tinypkg-1.0-py3-none-any.whl"
    assert _requires_dist(tmp_path / "site" / info["url"]) == ["peewee"]

    def no_build(*args):
        raise AssertionError("rebuilt although the sources did not change")

    # A tiny repo of its own: the real one is edited by others while tests run.
    monkeypatch.setattr(wheel, "_build_command", no_build)
    again = wheel.build_wheel(tmp_path / "site2", cache_dir=tmp_path / "cache", repo=repo)
    assert again["sha256"] == info["sha256"]


def test_failed_wheel_build_names_its_log(tmp_path):
    repo = _tiny_repo(tmp_path / "repo")
    (repo / "pyproject.toml").write_text('[build-system]\nrequires = []\nbuild-backend = "no_such_backend"\n'
                                         '[project]\nname = "tinypkg"\nversion = "1.0"\n')
    with pytest.raises(RuntimeError, match=r"failed \(exit [1-9]\d*\); output in .*last-build-failure.log") as failure:
        wheel.build_wheel(tmp_path / "site", cache_dir=tmp_path / "cache", repo=repo)
    assert "no_such_backend" in Path(str(failure.value).rsplit("output in ", 1)[1]).read_text()
    assert not (tmp_path / "site" / "downloads").exists()


@pytest.fixture(scope="module")
def helper_install(tmp_path_factory):
    """The site's helper wheel installed with its ``cli`` extra in a fresh virtualenv (no source checkout)."""
    import venv

    work = tmp_path_factory.mktemp("helper")
    info = wheel.build_wheel(work / "site", cache_dir=work / "cache")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"{work / 'site' / info['url']}[cli]"], check=True, capture_output=True, timeout=600)
    return python, work / "site" / info["url"]


def test_the_helper_wheel_installs_only_the_helper(helper_install):
    python, path = helper_install
    with zipfile.ZipFile(path) as archive:
        top_level = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("top_level.txt"))
        entry_points = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt"))
    assert top_level.split() == ["nasbenchmark"]
    assert "nasbenchmark.commands" not in entry_points
    for name in ("generators", "site_builder", "templates"):
        found = subprocess.run([python, "-c", f"import importlib.util as u; print(u.find_spec({name!r}))"],
                               capture_output=True, text=True, cwd="/")
        assert found.stdout.strip() == "None", name


def test_the_helper_cli_lists_source_commands_with_what_to_install(helper_install):
    python, _ = helper_install
    cli = python.parent / "nasbenchmark"
    listed = subprocess.run([cli, "--help"], capture_output=True, text=True, cwd="/")
    assert listed.returncode == 0
    for name in ("generate", "build-site", "up"):
        line = next(line for line in listed.stdout.splitlines() if line.strip().startswith(name))
        assert "Not available here" in line, line
    for args in (["generate", "nb201", "--input", "x"], ["build-site"], ["up", "--check"]):
        done = subprocess.run([cli, *args], capture_output=True, text=True, cwd="/")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "pip install -e '.[all]'" in done.stderr
    info = subprocess.run([cli, "info"], capture_output=True, text=True, cwd="/",
                          env={"NASBENCHMARK_DIR": "/nonexistent", "PATH": "/usr/bin:/bin"})
    assert info.returncode == 0 and "missing" in info.stdout
