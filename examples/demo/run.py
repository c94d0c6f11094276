"""The tracelog story in one command: ``make demo`` (or ``python examples/demo/run.py``).

A checkout request crosses three services (checkout -> inventory, then payment) with W3C
``traceparent``; one order fails in payment. Every service's JSON lines carry the one
trace id, the local collector receives the spans of all three with their parent links,
and ``tracelog grep`` / ``tracelog show`` find the failed request again from the logs.

Options: ``--exporter otlp|zipkin`` (``make demo EXPORTER=zipkin``), ``--out DIR``,
``--summary FILE`` (a JSON summary, for the demo's test). ``TRACELOG_DEMO_COLLECTOR=URL``
sends the spans to a collector you run (e.g. ``docker compose up``) instead of the
embedded one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).parent))
import settings

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
WIDTH = 220  # the longest JSON line shown whole; longer ones end in "…"
ORDERS = ["A-1001", "A-1002", "A-1003", "A-1004", "A-1005"]  # A-1003 fails in payment


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


class Service:
    """A service subprocess and the port it reported.

    Starting (``Popen``) and waiting for ``READY`` are separate steps, so the demo starts
    the three services at once and waits for them together: most of a start is Python
    importing the OpenTelemetry SDK, which the processes do side by side.
    """

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "service.py"), name, "--log-dir", str(log_dir), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.port = 0
        self.url = ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        result: list[str] = []
        stdout: IO[str] = self.proc.stdout  # type: ignore[assignment]
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result or not result[0].startswith("READY "):
            raise RuntimeError(f"{self.name} did not start (exit code {self.proc.poll()})")
        self.port = int(result[0].split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def tell(self, wiring: dict[str, Any]) -> None:
        """Send the service the collector's and its peers' URLs (known once all are up)."""
        stdin: IO[str] = self.proc.stdin  # type: ignore[assignment]
        stdin.write(json.dumps(wiring) + "\n")
        stdin.close()

    def terminate(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()  # a service still waiting for its peers stops too
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def stop_all(services: list[Service]) -> None:
    """Signal every service first, then wait: they flush and exit side by side."""
    for svc in services:
        svc.terminate()
    for svc in services:
        svc.wait_stopped()


def place(checkout: str, order: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{checkout}{'/checkout'}?order={order}", data=b"", method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return {"http": response.status, **json.loads(response.read())}
    except urllib.error.HTTPError as exc:
        return {"http": exc.code, **json.loads(exc.read() or b"{}")}


def start_cli(*commands: list[str]) -> list[subprocess.Popen[str]]:
    """Start several ``tracelog`` commands side by side."""
    env = {**os.environ, "TRACELOG_TRACE_URL": settings.TRACE_URL}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tracelog.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for args in commands
    ]


def finish_cli(procs: list[subprocess.Popen[str]]) -> list[subprocess.CompletedProcess[str]]:
    """The started commands' results, in the same order."""
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=30)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def clip(text: str, width: int = WIDTH) -> str:
    """The text whole, or cut to ``width`` characters ending in a visible ``…``."""
    return text if len(text) <= width else text[: width - 1] + "…"


def log_lines(log_dir: Path) -> list[dict[str, Any]]:
    """Every JSON log line of the three services (span records left out), by time."""
    lines = []
    for service in settings.SERVICES:
        path = log_dir / f"{service}.log"
        if not path.exists():
            continue
        for raw in path.read_text().splitlines():
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if "message" in line and "timestamp" in line:
                lines.append(line)
    return sorted(lines, key=lambda x: x["timestamp"])


def parent_links_ok(spans: list[dict[str, Any]], trace_id: str) -> bool:
    """Every span of the trace but one root has its parent among the trace's spans."""
    mine = [s for s in spans if s["trace_id"] == trace_id]
    ids = {s["span_id"] for s in mine}
    roots = [s for s in mine if s["parent_span_id"] is None]
    return len(roots) == 1 and all(s["parent_span_id"] in ids for s in mine if s not in roots)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", choices=settings.EXPORTERS, default="otlp")
    parser.add_argument("--out", type=Path, default=ROOT / settings.LOG_DIR)
    parser.add_argument("--summary", type=Path, default=None)
    args = parser.parse_args()
    started = time.monotonic()
    log_dir: Path = args.out
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()

    # The services start first: they import the SDK while this process starts the collector.
    services: list[Service] = []
    responses: list[dict[str, Any]] = []
    receiver = None
    try:
        services.extend(
            Service(name, ["--exporter", args.exporter], log_dir) for name in settings.SERVICES
        )
        external = os.environ.get("TRACELOG_DEMO_COLLECTOR")
        if external:
            collector_url = external.rstrip("/")
        else:
            # The embedded receiver is the tests' helper (tests/support), not part of tracelog.
            sys.path.insert(0, str(ROOT))
            from tests.support.receiver import OtlpReceiver

            receiver = OtlpReceiver().start()
            collector_url = receiver.url
        wire = "Zipkin v2 JSON" if args.exporter == "zipkin" else "OTLP/HTTP protobuf"
        banner(f"collector on {collector_url} ({wire}); logs in {log_dir}")
        checkout, inventory, payment = services
        for svc in services:
            svc.wait_ready()
        peers = {"inventory": f"{inventory.url}/reserve", "payment": f"{payment.url}/charge"}
        for svc in services:
            svc.tell({"collector": collector_url, "peers": peers if svc is checkout else {}})
        for name, svc in (("checkout", checkout), ("inventory", inventory), ("payment", payment)):
            print(f"{name:10} {svc.url}  (pid {svc.proc.pid})")

        banner(f"placing {len(ORDERS)} orders")
        for order in ORDERS:
            response = place(checkout.url, order)
            responses.append(response)
            print(
                f"{order}: HTTP {response['http']} {response.get('status')}  "
                f"trace {response.get('trace_id')}"
            )
    finally:
        stop_all(services)
        if receiver is not None and not responses:
            receiver.stop()
    pids = [svc.proc.pid for svc in services]

    failed = next(r for r in responses if r["http"] != 200)
    trace_id = failed["trace_id"]
    # The services have stopped, so their logs are whole: the CLI starts at once and runs
    # while this process waits for the collector and prints the lines.
    files = [str(log_dir / f"{s}.log") for s in settings.SERVICES]
    # The page goes next to the log directory, never into it: `tracelog grep -r ID out/demo`
    # reads only log lines.
    html = log_dir.parent / settings.HTML_NAME
    cli = start_cli(
        ["grep", "--pretty", trace_id, *files],
        ["show", trace_id, *files],
        ["show", trace_id, *files, "--html", str(html)],
    )
    if receiver is not None:
        receiver.wait_for(
            lambda r: (
                {s["service"] for s in r.spans if s["trace_id"] == trace_id}
                >= set(settings.SERVICES)
            ),
            timeout=5,
        )

    banner("the JSON lines of all three services, interleaved by time")
    lines = log_lines(log_dir)
    for line in lines:
        print(clip(json.dumps(line, separators=(",", ":"))))

    grep, show, html_run = finish_cli(cli)
    banner(f"tracelog grep --pretty {trace_id} (the failed order {failed['order']})")
    sys.stdout.write(grep.stdout)
    sys.stderr.write(grep.stderr)

    banner(f"tracelog show {trace_id}")
    sys.stdout.write(show.stdout)
    sys.stderr.write(show.stderr)
    sys.stderr.write(html_run.stderr)
    if html_run.returncode == 0 and html.exists():
        print(f"\nHTML waterfall: {html}")

    logged_by = {
        service: any(
            line.get("traceId") == trace_id and line.get("service") == service for line in lines
        )
        for service in settings.SERVICES
    }
    summary: dict[str, Any] = {
        "exporter": args.exporter,
        "wire": wire,
        "failed_order": failed["order"],
        "failed_trace_id": trace_id,
        "responses": responses,
        "logged_by": logged_by,
        "pids": pids,
        "grep_exit": grep.returncode,
        "show_exit": show.returncode,
        "html": str(html) if html_run.returncode == 0 and html.exists() else None,
    }
    if receiver is not None:
        received = receiver.summary()
        receiver.stop()
        summary["collector"] = received
        summary["spans"] = [
            {
                **{k: s[k] for k in ("trace_id", "span_id", "parent_span_id", "name", "service")},
                "status": s["status"]["code"],
                "events": [e["name"] for e in s["events"]],
            }
            for s in receiver.spans
        ]
        summary["parent_links_ok"] = parent_links_ok(receiver.spans, trace_id)
        banner(f"collector: {received['wire']}")
        print(f"spans per service: {received['spans_per_service']}")
        print(f"the failed trace's parent links are whole: {summary['parent_links_ok']}")
    print(f"every service logged the failed trace: {logged_by}")
    print(f"all {len(pids)} service processes stopped; {time.monotonic() - started:.1f} s")
    if args.summary is not None:
        args.summary.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and every process stopped: skip the interpreter's teardown of
    # the SDK's and protobuf's modules (most of a second on a busy machine).
    os._exit(status)
