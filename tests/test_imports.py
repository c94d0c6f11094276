"""Import hygiene: what `import tracelog` loads, and which module may import what."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import tracelog

PACKAGE = Path(tracelog.__file__).parent


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tracelog":
                found.update(f"tracelog.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


def names_of(path: Path) -> set[str]:
    """Every name and attribute name the module's code uses."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


class TestImportRules:
    """The layering itself is import-linter's contracts in pyproject (run by `make lint`)."""

    def test_no_import_cycle(self) -> None:
        """No module reaches itself through imports, lazy ones included (TYPE_CHECKING aside)."""
        graph = grimp.build_graph("tracelog", exclude_type_checking_imports=True)
        edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
        cycles = []
        state: dict[str, int] = {}

        def visit(module: str, path: list[str]) -> None:
            state[module] = 1
            for target in sorted(edges[module]):
                if state.get(target) == 1:
                    cycles.append([*path[path.index(target) :], target])
                elif target not in state:
                    visit(target, [*path, target])
            state[module] = 2

        for module in sorted(edges):
            if module not in state:
                visit(module, [module])
        assert [] == cycles

    def test_only_testing_and_export_import_the_sdk(self) -> None:
        """The OpenTelemetry SDK is imported by tracelog.testing and tracelog.export alone."""
        importers = {
            module_name(p)
            for p in SOURCES
            if any(i.startswith("opentelemetry.sdk") for i in imports_of(p))
        }
        assert {"testing", "export"} == importers

    def test_only_context_reads_opentelemetry_trace(self) -> None:
        """OTel's current context is read in context.py alone; web.py and the bridge write it."""
        elsewhere = ("opentelemetry.sdk", "opentelemetry.instrumentation", "opentelemetry.proto")
        readers = {
            module_name(p)
            for p in SOURCES
            if any(
                i == "opentelemetry"
                or (
                    i.startswith(("opentelemetry.trace", "opentelemetry.context"))
                    and not i.startswith(elsewhere)
                )
                for i in imports_of(p)
            )
        }
        # web.py and _celery.py extract and attach contexts; web.py starts spans; the
        # bridge adds events and records; _compat holds the private reads _context.py
        # uses. All ask _context.py for the current span.
        assert {"_context", "web", "bridge", "_compat", "_celery"} == readers
        current = {"get_current_span", "get_current", "get_value", "_current_span"}
        callers = {module_name(p) for p in SOURCES if names_of(p) & current}
        assert {"_context"} == callers


class TestImportSideEffects:
    def test_import_loads_neither_sdk_nor_structlog(self) -> None:
        """`import tracelog` loads no SDK, structlog, propagators or asyncio; patches nothing."""
        code = (
            "import logging, sys\n"
            "factory = logging.getLogRecordFactory()\n"
            "handlers = list(logging.getLogger().handlers)\n"
            "import tracelog\n"
            "prefixes = ('opentelemetry.sdk', 'structlog', 'opentelemetry.propagate', 'asyncio',\n"
            "            'opentelemetry.proto', 'google')\n"
            "loaded = [m for m in sys.modules if m.startswith(prefixes)]\n"
            "print(sorted(loaded))\n"
            "root = logging.getLogger()\n"
            "print(logging.getLogRecordFactory() is factory, root.handlers == handlers)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        ).stdout.splitlines()
        assert ["[]", "True True"] == out

    def test_import_survives_a_bad_otel_propagators(self) -> None:
        """An OTEL_PROPAGATORS naming a missing propagator fails inject_headers, not import."""
        code = (
            "import tracelog\n"
            "try:\n"
            "    tracelog.inject_headers\n"
            "except ValueError as exc:\n"
            "    print('ValueError', 'nope' in str(exc))\n"
        )
        env = {**os.environ, "OTEL_PROPAGATORS": "nope"}
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env=env,
        ).stdout.splitlines()
        assert ["ValueError True"] == out

    def test_lazy_version(self) -> None:
        """__version__ is resolved lazily from the installed metadata."""
        from importlib.metadata import version

        assert version("tracelog-otel") == tracelog.__version__
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = tracelog.nope  # type: ignore[attr-defined]

    def test_public_api_is_pinned(self) -> None:
        """The exported names are deliberate."""
        assert sorted(tracelog.__all__) == sorted(
            [
                "SCHEMA_NAMES",
                "ContextThread",
                "ContextThreadPoolExecutor",
                "Redactor",
                "Schema",
                "TraceContext",
                "__version__",
                "configure",
                "current_trace_context",
                "get_logger",
                "inject_headers",
                "run_in_executor",
                "shutdown",
                "stats",
                "wrap",
            ]
        )

    def test_public_names_are_loaded_on_first_use(self) -> None:
        """`import tracelog` (and so the CLI's start) loads none of the logging machinery;
        each public name is its module's own object once asked for."""
        code = (
            "import sys, tracelog\n"
            "print(sorted(m for m in sys.modules if m.startswith('tracelog')))\n"
            "from tracelog import config, redact, schemas\n"
            "print(tracelog.configure is config.configure, tracelog.Schema is schemas.Schema,\n"
            "      tracelog.Redactor is redact.Redactor,\n"
            "      set(tracelog.__all__) <= set(dir(tracelog)))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        ).stdout.splitlines()
        assert ["['tracelog']", "True True True True"] == out

    def test_inject_headers_is_loaded_on_first_use(self) -> None:
        """tracelog.inject_headers is tracelog.web's, imported when first asked for."""
        from tracelog import web

        assert web.inject_headers is tracelog.inject_headers


PUBLIC_MODULES = [
    "tracelog.config",
    "tracelog.stdlib",
    "tracelog.structlog",
    "tracelog.web",
    "tracelog.export",
    "tracelog.testing",
    "tracelog.redact",
    "tracelog.schemas",
    "tracelog.bridge",
    "tracelog.instrument",
    "tracelog.console",
    "tracelog.cli",
    "tracelog.cli.grep",
    "tracelog.cli.show",
    "tracelog.cli.html",
    "tracelog.cli.ids",
    "tracelog.cli.inputs",
    "tracelog.cli.links",
    "tracelog.cli.scan",
    "tracelog.cli.pretty",
]


class TestPublicNames:
    @pytest.mark.parametrize("name", PUBLIC_MODULES)
    def test_every_public_looking_name_is_exported(self, name: str) -> None:
        """A public module's own names without an underscore are all in its __all__."""
        module = importlib.import_module(name)
        tree = ast.parse(Path(module.__file__ or "").read_text())
        defined = set()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined.add(node.target.id)
        public = {n for n in defined if not n.startswith("_")}
        assert set() == public - set(module.__all__)
