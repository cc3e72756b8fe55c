"""The site's Python API reference, generated from the ``nasbenchmark`` package by introspection.

Pages (under ``api/``): an index with the install line and a table of contents, one page per
registered benchmark package (everything its ``__all__`` exports), one for
``nasbenchmark.database`` and one for the ``nasbenchmark`` command (click's own description of it).
Docstrings are reStructuredText in numpydoc layout, so docutils renders them: ``Parameters`` and
``Returns`` become definition lists with types, ``>>>`` examples and literal blocks ``<pre>``,
and every piece of text is HTML-escaped (raw HTML and file inclusion are switched off).
"""
from __future__ import annotations

import ast
import dataclasses
import doctest
import importlib
import inspect
import logging
import pprint
import re
import sys
import types
from pathlib import Path
from typing import Any, Iterable

import click
import jinja2
import peewee
from docutils.core import publish_parts
from docutils.writers.html5_polyglot import Writer as Html5Writer
from markupsafe import Markup

from nasbenchmark import cli, database, registry

log = logging.getLogger(__name__)

API_DIR = "api"
#: Non-benchmark modules documented alongside the benchmark packages.
SUPPORT_MODULES = ("nasbenchmark.database", "nasbenchmark.provenance")
_DOCUTILS_SETTINGS = {
    "raw_enabled": False,  # a docstring can never inject HTML
    "file_insertion_enabled": False,
    "report_level": 5,  # malformed markup degrades to plain text instead of error boxes
    "halt_level": 5,
    "doctitle_xform": False,  # "Parameters" must stay a section, not become the document title
    "_disable_config": True,
    "output_encoding": "unicode",
}


@dataclasses.dataclass
class ModelField:
    name: str
    column: str
    peewee_type: str
    sql_type: str
    null: bool
    index: str  # "primary key", "unique", "index" or ""
    references: str | None  # "Model.field" of a foreign key
    references_anchor: str | None
    backref: str | None
    choices: list | None
    description: str


@dataclasses.dataclass
class Member:
    name: str
    kind: str  # "function", "class", "model", "constant", "alias"
    anchor: str
    qualname: str  # where it is defined: "nasbenchmark.nasbench201.query.query_nb201_computed_stats"
    signature: str | None = None
    doc: Markup | None = None
    note: Markup | None = None  # the ``#:`` comment above its assignment
    value: str | None = None  # repr of a constant
    alias_of: str | None = None
    alias_anchor: str | None = None
    table_name: str | None = None
    primary_key: str | None = None
    fields: list[ModelField] = dataclasses.field(default_factory=list)
    bases: list[str] = dataclasses.field(default_factory=list)
    methods: list[Member] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Group:
    title: str
    anchor: str
    members: list[Member]


@dataclasses.dataclass
class Snippet:
    title: str
    language: str  # "shell" or "python"
    code: str


@dataclasses.dataclass
class ModulePage:
    module: str
    filename: str
    title: str
    summary: str
    doc: Markup | None
    groups: list[Group]
    snippets: list[Snippet]
    benchmark: Any = None  # the package's nasbenchmark.descriptor.Benchmark, when it is a benchmark
    locations: list[dict] = dataclasses.field(default_factory=list)  # the database page's DB file table


@dataclasses.dataclass
class Command:
    path: str  # "nasbenchmark generate nb201"
    anchor: str
    depth: int
    usage: str
    help: Markup | None
    options: list[tuple[str, str]]  # (opts as click prints them, help text)
    subcommands: list[tuple[str, str]]  # (path, anchor)
    #: What it needs beyond the helper wheel (``cli.SOURCE_COMMANDS``), or "".
    needs_source: str = ""


def render(env: jinja2.Environment, out_dir: Path, context: dict, *,
           benchmark_packages: Iterable[str] | None = None, wheel: dict | None = None) -> list[Path]:
    """Write ``out_dir/api/index.html`` and one page per module; return the written paths.

    ``benchmark_packages`` defaults to every package of ``registry.BENCHMARK_PACKAGES`` that exists.
    The install line comes from ``wheel`` or ``context["wheel"]`` (``site_builder.wheel.build_wheel``).
    """
    if benchmark_packages is None:
        benchmark_packages = registry.BENCHMARK_PACKAGES.values()
    wheel = wheel or context.get("wheel")
    pages = [page for page in (benchmark_page(name, wheel) for name in benchmark_packages) if page is not None]
    pages += [module_page(name, wheel) for name in SUPPORT_MODULES]
    commands = cli_commands(cli.main)
    for page in pages:
        for member in missing_docstrings(page):
            log.warning("API docs: %s has no docstring", member)
    api_dir = Path(out_dir) / API_DIR
    api_dir.mkdir(parents=True, exist_ok=True)
    shared = {**context, "root": "../", "active": "api", "wheel": wheel, "pages": pages, "commands": commands,
              "cli_filename": "nasbenchmark.cli.html", "cli_snippets": cli_snippets(commands, wheel)}
    written = [_write(env, "api/index.html", api_dir / "index.html", shared)]
    for page in pages:
        written.append(_write(env, "api/module.html", api_dir / page.filename, {**shared, "page": page}))
    written.append(_write(env, "api/cli.html", api_dir / shared["cli_filename"], shared))
    return written


def _write(env: jinja2.Environment, template: str, path: Path, context: dict) -> Path:
    path.write_text(env.get_template(template).render(context), encoding="utf-8")
    return path


# --- docstrings and signatures ---------------------------------------------------------------

def render_rst(text: str | None, id_prefix: str, header_level: int = 4) -> Markup | None:
    """HTML of a reStructuredText docstring; ids are prefixed so several docstrings share a page."""
    if not text:
        return None
    settings = {**_DOCUTILS_SETTINGS, "id_prefix": id_prefix + "-", "initial_header_level": header_level}
    body = publish_parts(text, writer=Html5Writer(), settings_overrides=settings)["body"]
    return Markup(body)  # docutils escaped every text node, and raw HTML is disabled above


def own_doc(obj: Any) -> str | None:
    """The object's own docstring (``inspect.getdoc`` would fall back to a base class's)."""
    if isinstance(obj, type) and obj.__dict__.get("__doc__") is None:
        return None
    return inspect.getdoc(obj)


class _AnnotationText:
    """Shows a string annotation (``from __future__ import annotations``) without quotes."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def format_signature(name: str, obj: Any) -> str | None:
    """``name(arch, num_epochs, ..., reduction=None) -> Iterator[dict]``, or None when it has none."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None

    def unquoted(annotation):
        return _AnnotationText(annotation) if isinstance(annotation, str) else annotation

    signature = signature.replace(
        parameters=[p.replace(annotation=unquoted(p.annotation)) for p in signature.parameters.values()],
        return_annotation=unquoted(signature.return_annotation))
    return f"{name}{signature}"


def attribute_comments(module: types.ModuleType) -> dict[str, str]:
    """``#:`` comments written just above top-level assignments, by assigned name."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    comments = {}
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names = [target.id for target in targets if isinstance(target, ast.Name)]
        comment, line = [], node.lineno - 2
        while line >= 0 and lines[line].strip().startswith("#:"):
            comment.insert(0, lines[line].strip()[2:].strip())
            line -= 1
        for name in names:
            if comment:
                comments[name] = " ".join(comment)
    return comments


# --- benchmark packages and modules ------------------------------------------------------------

def _import_optional(name: str) -> types.ModuleType | None:
    """Import ``name``; None if that package itself is absent (a broken import inside it still raises)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


def _benchmark_for(package: str):
    """The package's descriptor (column docs, DB file name), or None if it is not a registered benchmark."""
    keys = [key for key, name in registry.BENCHMARK_PACKAGES.items() if name == package]
    return registry.benchmark(keys[0]) if keys else None


def _anchor(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def _summary(doc: str | None) -> str:
    return doc.strip().split("\n\n")[0].replace("\n", " ") if doc else ""


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, peewee.Model)


def _comments_of(package: types.ModuleType) -> dict[str, str]:
    """``#:`` comments of the package and of its loaded submodules (first definition wins)."""
    comments: dict[str, str] = {}
    prefix = package.__name__ + "."
    for name in [package.__name__] + sorted(n for n in list(sys.modules) if n.startswith(prefix)):
        for attribute, comment in attribute_comments(sys.modules[name]).items():
            comments.setdefault(attribute, comment)
    return comments


def benchmark_page(package_name: str, wheel: dict | None = None) -> ModulePage | None:
    """Everything ``package.__all__`` exports, grouped; None if the package is not there (yet).

    A folder without ``__init__.py`` imports as a namespace package, but it is not a package the
    wheel ships, so it is skipped too.
    """
    package = _import_optional(package_name)
    if package is None or getattr(package, "__file__", None) is None:
        return None
    names = list(getattr(package, "__all__", None) or _public_names(package))
    bench = _benchmark_for(package_name)
    comments = _comments_of(package)
    exported = {name: getattr(package, name) for name in names}
    members = [_describe(name, obj, exported, comments) for name, obj in exported.items()]
    page = ModulePage(
        module=package_name, filename=f"{package_name}.html",
        title=f"{bench.title} ({package_name})" if bench else package_name,
        summary=_summary(own_doc(package)), doc=render_rst(own_doc(package), "module", header_level=3),
        groups=_group(members, exported), snippets=[], benchmark=bench)
    page.snippets = benchmark_snippets(package, exported, bench, wheel)
    return page


def module_page(module_name: str, wheel: dict | None = None) -> ModulePage:
    """A plain module: its public functions, classes and UPPER_CASE constants."""
    module = importlib.import_module(module_name)
    exported = {name: getattr(module, name) for name in _public_names(module)}
    comments = attribute_comments(module)
    members = [_describe(name, obj, exported, comments) for name, obj in exported.items()]
    page = ModulePage(
        module=module_name, filename=f"{module_name}.html", title=module_name,
        summary=_summary(own_doc(module)), doc=render_rst(own_doc(module), "module", header_level=3),
        groups=_group(members, exported), snippets=[])
    if module is database:
        page.locations = _database_locations()
        page.snippets = database_snippets(wheel)
    return page


def _public_names(module: types.ModuleType) -> list[str]:
    """Names defined in ``module`` itself: its functions and classes, and its UPPER_CASE constants."""
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        if getattr(obj, "__module__", None) == module.__name__ and callable(obj):
            names.append(name)
        elif name.isupper() and not callable(obj):
            names.append(name)
    return names


def _describe(name: str, obj: Any, exported: dict[str, Any], comments: dict[str, str]) -> Member:
    note = render_rst(comments.get(name), _anchor(name) + "-note")
    if not callable(obj):
        return Member(name=name, kind="constant", anchor=_anchor(name), qualname=name, note=note,
                      value=pprint.pformat(obj, width=88, sort_dicts=False))
    qualname = f"{obj.__module__}.{getattr(obj, '__qualname__', name)}"
    canonical = getattr(obj, "__name__", name)
    if canonical != name:
        target_exported = exported.get(canonical) is obj
        return Member(name=name, kind="alias", anchor=_anchor(name), qualname=qualname, note=note,
                      alias_of=canonical if target_exported else qualname,
                      alias_anchor=_anchor(canonical) if target_exported else None,
                      signature=None if target_exported else format_signature(name, obj),
                      doc=None if target_exported else render_rst(own_doc(obj), _anchor(name)))
    member = Member(name=name, kind="function", anchor=_anchor(name), qualname=qualname, note=note,
                    doc=render_rst(own_doc(obj), _anchor(name)))
    if _is_model(obj):
        member.kind = "model"
        _describe_model(member, obj, exported)
    elif isinstance(obj, type):
        member.kind = "class"
        member.bases = [base.__name__ for base in obj.__bases__ if base is not object]
        if "__init__" in vars(obj):
            member.signature = format_signature(name, obj)
        member.methods = [
            Member(name=attr, kind="function", anchor=_anchor(f"{name}.{attr}"), qualname=f"{qualname}.{attr}",
                   signature=format_signature(attr, getattr(obj, attr)),
                   doc=render_rst(own_doc(function), _anchor(f"{name}.{attr}")))
            for attr, function in vars(obj).items() if not attr.startswith("_") and inspect.isfunction(function)]
    else:
        member.signature = format_signature(name, obj)
    return member


def _describe_model(member: Member, model: type[peewee.Model], exported: dict[str, Any]) -> None:
    meta = model._meta
    member.table_name = meta.table_name
    composite = meta.primary_key.field_names if isinstance(meta.primary_key, peewee.CompositeKey) else ()
    member.primary_key = ", ".join(composite) if composite else (meta.primary_key.column_name
                                                                 if meta.primary_key else None)
    model_anchor = {id(obj): _anchor(name) for name, obj in exported.items()
                    if _is_model(obj) and getattr(obj, "__name__", None) == name}
    for field in meta.sorted_fields:
        is_foreign_key = isinstance(field, peewee.ForeignKeyField)
        sql_type = field.field_type
        if getattr(field, "max_length", None):
            sql_type += f"({field.max_length})"
        index = ("primary key" if field.primary_key or field.name in composite
                 else "unique" if field.unique else "index" if field.index else "")
        description = field.help_text or ""  # the column's documentation (nasbenchmark.models)
        member.fields.append(ModelField(
            name=field.name, column=field.column_name, peewee_type=type(field).__name__, sql_type=sql_type,
            null=field.null, index=index,
            references=f"{field.rel_model.__name__}.{field.rel_field.name}" if is_foreign_key else None,
            references_anchor=model_anchor.get(id(field.rel_model)) if is_foreign_key else None,
            backref=field.backref if is_foreign_key else None,
            choices=list(field.choices) if field.choices else None, description=description))


def _group(members: list[Member], exported: dict[str, Any]) -> list[Group]:
    """Query functions, models, constants, graph_util functions, then anything else (in export order)."""
    def module_suffix(member: Member) -> str:
        obj = exported[member.name]
        return getattr(obj, "__module__", "").rsplit(".", 1)[-1]

    def group_of(member: Member) -> str:
        obj = exported[member.name]
        if member.kind == "constant":
            return "Constants"
        if _is_model(obj):
            return "Models"
        if member.kind == "class":
            return "Classes"
        if module_suffix(member) == "query":
            return "Query functions"
        if module_suffix(member) == "graph_util":
            return "Architecture conversions (graph_util)"
        return "Functions"

    order = ["Query functions", "Models", "Functions", "Architecture conversions (graph_util)", "Classes",
             "Constants"]
    grouped: dict[str, list[Member]] = {title: [] for title in order}
    for member in members:
        grouped[group_of(member)].append(member)
    return [Group(title, _anchor("group-" + title.split(" (")[0].lower()), found)
            for title, found in grouped.items() if found]


def missing_docstrings(page: ModulePage) -> list[str]:
    """Public functions, classes and methods of a page without a docstring ("module.name")."""
    missing = []
    for group in page.groups:
        for member in group.members:
            if member.kind in ("function", "class", "model") and member.doc is None:
                missing.append(f"{page.module}.{member.name}")
            missing.extend(f"{page.module}.{member.name}.{method.name}"
                           for method in member.methods if method.doc is None)
    return missing


# --- runnable examples -------------------------------------------------------------------------

def doctest_script(doc: str | None, package: str, exported: Iterable[str]) -> str | None:
    """The ``>>>`` examples of a docstring as a script: bare expressions printed, used exports imported."""
    examples = doctest.DocTestParser().get_examples(doc or "")
    if not examples:
        return None
    tree = ast.parse("".join(example.source for example in examples))
    tree.body = [ast.Expr(ast.Call(ast.Name("print", ast.Load()), [statement.value], []))
                 if isinstance(statement, ast.Expr) and not _is_print(statement.value) else statement
                 for statement in tree.body]
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    used = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
                  & set(exported) - imported, key=list(exported).index)
    if used:
        tree.body.insert(0, ast.ImportFrom(package, [ast.alias(name) for name in used], 0))
    return ast.unparse(ast.fix_missing_locations(tree))


def _is_print(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


def _install_lines(wheel: dict | None, extras: str = "") -> list[str]:
    """``extras=""`` installs the helper alone (peewee only); ``"cli"`` adds the command."""
    suffix = f"[{extras}]" if extras else ""
    if wheel:
        return [f"# the wheel is on this site: {wheel['url']}",
                f"pip install '{wheel['filename']}{suffix}'"]
    return ["# from a checkout of the nasbenchmark repository:", f"pip install '.{suffix}'"]


def benchmark_snippets(package: types.ModuleType, exported: dict[str, Any], bench,
                       wheel: dict | None) -> list[Snippet]:
    """Shell (install, NASBENCHMARK_DIR, generate) then the docstrings' own examples as Python scripts."""
    shell = [*_install_lines(wheel, "cli"), f"export {database.ENV_DIR}=~/nasbenchmark"]
    if bench is not None:
        shell.append(f"{bench.generate_command}   # in a source checkout; writes "
                     f"${database.ENV_DIR}/{bench.db_filename}")
    snippets = [Snippet("Install and generate the database", "shell", "\n".join(shell))]
    sources = [(f"{package.__name__} docstring", own_doc(package))]
    seen = set()
    for name, obj in exported.items():
        if inspect.isfunction(obj) and obj.__module__.endswith(".query") and id(obj) not in seen:
            seen.add(id(obj))
            sources.append((f"{obj.__name__} docstring", own_doc(obj)))
    for origin, doc in sources:
        script = doctest_script(doc, package.__name__, exported)
        if script:
            snippets.append(Snippet(f"Query (from the {origin})", "python", script))
    return snippets


def _database_locations() -> list[dict[str, str]]:
    return [{"benchmark": bench.title, "key": bench.key, "file": bench.db_filename,
             "path": f"${database.ENV_DIR}/{bench.db_filename}",
             "default": f"{database.DEFAULT_DIR}/{bench.db_filename}", "generate": bench.generate_command}
            for bench in registry.benchmarks()]


def database_snippets(wheel: dict | None) -> list[Snippet]:
    benchmarks = registry.benchmarks()
    lines = ["from nasbenchmark import database", "", "print(database.database_dir())"]
    for bench in benchmarks:
        lines.append(f"print(database.database_path({bench.db_filename!r}))")
    if benchmarks:
        package = registry.BENCHMARK_PACKAGES[benchmarks[0].key]
        lines += ["", f"from {package} import bind",
                  f"# bind('/path/to/{benchmarks[0].db_filename}')  # read another file instead (read-only)",
                  "# after changing the variable, forget the open files and bindings:",
                  "database.close_all()"]
    shell = [*_install_lines(wheel), f"export {database.ENV_DIR}=~/nasbenchmark"]
    return [Snippet("Install", "shell", "\n".join(shell)),
            Snippet("Locate, bind, close", "python", "\n".join(lines))]


# --- the command line --------------------------------------------------------------------------

def cli_commands(group: click.Command, name: str = "nasbenchmark") -> list[Command]:
    """Every command under ``group`` (depth first), as click itself describes them."""
    commands = []

    def walk(command: click.Command, ctx: click.Context, depth: int) -> None:
        path = ctx.command_path
        help_text = "\n".join(line for line in (command.help or "").splitlines() if line.strip() != "\b")
        subcommands = command.list_commands(ctx) if isinstance(command, click.Group) else []
        options = [record for record in (param.get_help_record(ctx) for param in command.get_params(ctx))
                   if record]
        arguments = [(param.human_readable_name, "argument") for param in command.params
                     if isinstance(param, click.Argument)]
        top = path.split(" ")[1] if path.count(" ") else ""
        commands.append(Command(
            path=path, anchor=_command_anchor(path), depth=depth,
            usage=command.get_usage(ctx), help=render_rst(inspect.cleandoc(help_text), _anchor(path)),
            options=arguments + options,
            subcommands=[(f"{path} {sub}", _command_anchor(f"{path} {sub}")) for sub in subcommands],
            needs_source=cli.SOURCE_COMMANDS.get(top, "")))
        for sub in subcommands:
            child = command.get_command(ctx, sub)
            walk(child, click.Context(child, info_name=sub, parent=ctx), depth + 1)

    walk(group, click.Context(group, info_name=name), 0)
    return commands


def _command_anchor(path: str) -> str:
    return _anchor("cmd-" + path.replace(" ", "-"))


def cli_snippets(commands: list[Command], wheel: dict | None) -> list[Snippet]:
    """Install with the CLI extra, then one line per generate/query command click knows."""
    lines = [*_install_lines(wheel, "cli"), f"export {database.ENV_DIR}=~/nasbenchmark", "nasbenchmark --help",
             "# in a source checkout (pip install -e '.[all]'); the helper wheel has no converters:"]
    for bench in registry.benchmarks():
        lines.append(bench.generate_command)
    limited = [command.path for command in commands
               if command.path.startswith("nasbenchmark query ") and any(
                   opts.startswith("--limit") for opts, _ in command.options)]
    lines += [f"{path} --limit 3" for path in limited]
    lines.append("nasbenchmark info")
    return [Snippet("Install, generate, query", "shell", "\n".join(lines))]
