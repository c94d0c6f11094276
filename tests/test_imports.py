"""Import hygiene: what `import tracelog` loads, and which module may import what."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracelog

PACKAGE = Path(tracelog.__file__).parent

# module -> top-level packages (outside tracelog and the stdlib) it may import.
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "_version": set(),
    "_line": set(),
    "context": {"opentelemetry", "opentelemetry.trace", "opentelemetry.context"},
    "schemas": set(),
    "render": {"orjson"},
    "redact": set(),
    "sink": set(),
    "_fork": set(),
    "_queue": set(),
    "sampling": set(),
    "stdlib": {"pythonjsonlogger", "opentelemetry._logs"},
    "structlog": {"structlog", "opentelemetry._logs"},
    "config": {"structlog", "opentelemetry._logs"},
    "bridge": {"opentelemetry", "opentelemetry._logs", "opentelemetry.context"},
    "collector": {"google.protobuf", "opentelemetry.proto"},
    "testing": {"opentelemetry.sdk", "structlog"},
    "instrument": {"opentelemetry.instrumentation"},
    "propagation": set(),
    "web": {"opentelemetry.trace", "opentelemetry.propagate", "opentelemetry.context"},
    "cli.__init__": set(),
    "cli.__main__": set(),
    "cli.grep": set(),
    "cli.html": set(),
    "cli.ids": set(),
    "cli.inputs": set(),
    "cli.links": set(),
    "cli.scan": set(),
    "cli.show": set(),
    "cli.term": set(),
    "export": {"opentelemetry.sdk"},
}
# tracelog modules each module may import.
INTERNAL: dict[str, set[str]] = {
    "__init__": {"config", "context", "redact", "schemas", "_version", "propagation", "web"},
    "context": set(),
    "_version": set(),
    "schemas": {"context"},
    "render": set(),
    "redact": {"render"},
    "sink": {"_fork", "render"},
    "_fork": set(),
    "_line": {"render", "context", "schemas", "redact"},
    "_queue": {"stdlib", "_fork", "sampling", "sink"},
    "sampling": {"context", "_fork"},
    "stdlib": {"render", "context", "sink", "_line", "schemas", "sampling", "bridge"},
    "structlog": {"render", "_line", "context", "schemas", "sink", "_queue", "sampling", "bridge"},
    "config": {"_line", "schemas", "stdlib", "structlog", "redact", "_queue", "sampling", "bridge"},
    "bridge": {"render", "_line", "context", "schemas", "sink", "redact", "config"},
    "collector": {"render"},
    "testing": {"render", "structlog"},
    "instrument": {"config", "sink"},
    "propagation": set(),
    "web": {"context", "redact", "render"},
    "cli.__init__": {"cli"},
    "cli.__main__": {"cli"},
    "cli.grep": {"cli", "schemas"},
    "cli.html": {"cli"},
    "cli.ids": {"schemas"},
    "cli.inputs": {"cli", "schemas"},
    "cli.links": {"schemas"},
    "cli.scan": {"cli", "render", "schemas"},
    "cli.show": {"cli", "schemas"},
    "cli.term": {"render", "schemas"},
    "export": {"render", "_line", "context", "schemas", "sink", "redact"},
}


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
    def test_every_module_is_listed(self) -> None:
        """A new module must be given its import rule here."""
        assert sorted(ALLOWED) == sorted(module_name(p) for p in SOURCES)

    @pytest.mark.parametrize("path", SOURCES, ids=module_name)
    def test_module_imports_only_what_it_may(self, path: Path) -> None:
        """Each module's third-party and internal imports stay inside its rule."""
        name = module_name(path)
        stdlib = sys.stdlib_module_names
        third_party, internal = set(), set()
        for imported in imports_of(path):
            top = imported.split(".")[0]
            if top == "tracelog":
                internal.add(imported.removeprefix("tracelog.").split(".")[0] or imported)
            elif top not in stdlib and top != "__future__":
                third_party.add(imported)
        allowed = ALLOWED[name]
        assert set() == {
            m for m in third_party if not any(m == a or m.startswith(a + ".") for a in allowed)
        }
        assert set() == internal - INTERNAL[name] - {"tracelog"}

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
        # web.py extracts, attaches and starts spans; the bridge adds events and records.
        # Both ask context.py for the current span.
        assert {"context", "web", "bridge"} == readers
        current = {"get_current_span", "get_current", "get_value", "_current_span"}
        callers = {module_name(p) for p in SOURCES if names_of(p) & current}
        assert {"context"} == callers


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

    def test_inject_headers_is_loaded_on_first_use(self) -> None:
        """tracelog.inject_headers is tracelog.web's, imported when first asked for."""
        from tracelog import web

        assert web.inject_headers is tracelog.inject_headers
