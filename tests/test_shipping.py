"""docker-compose.yml and the Collector config stay in sync with the demo's settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent.parent


def settings() -> Any:
    spec = importlib.util.spec_from_file_location(
        "demo_settings", ROOT / "examples/demo/settings.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def host_ports(service: dict[str, Any]) -> dict[int, int]:
    """container port -> host port."""
    out = {}
    for mapping in service.get("ports", []):
        host, container = str(mapping).split(":")
        out[int(container)] = int(host)
    return out


class TestCompose:
    def test_yaml_parses_and_ports_match(self) -> None:
        """The collector listens on the demo's OTLP and Zipkin ports; Jaeger's UI is where
        the demo's trace link points."""
        demo = settings()
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        services = compose["services"]
        assert {"otel-collector", "jaeger", "zipkin"} <= set(services)
        collector = host_ports(services["otel-collector"])
        assert demo.OTLP_HTTP_PORT == collector[demo.OTLP_HTTP_PORT]
        assert demo.ZIPKIN_PORT == collector[demo.ZIPKIN_PORT]
        assert demo.JAEGER_UI_PORT == host_ports(services["jaeger"])[16686]
        assert f"localhost:{demo.JAEGER_UI_PORT}/trace/" in demo.TRACE_URL

    def test_collector_config_matches(self) -> None:
        """Receivers on the demo's ports, filelog on the demo's log directory, trace fields
        parsed from the default layout's names."""
        demo = settings()
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        volumes = services_volumes(compose["services"]["otel-collector"])
        assert "/var/log/tracelog" == volumes[f"./{demo.LOG_DIR}"]
        config_file = next(src for src, dst in volumes.items() if dst.endswith("config.yaml"))
        config = yaml.safe_load((ROOT / config_file).read_text())
        receivers = config["receivers"]
        assert receivers["otlp"]["protocols"]["http"]["endpoint"].endswith(
            f":{demo.OTLP_HTTP_PORT}"
        )
        assert receivers["zipkin"]["endpoint"].endswith(f":{demo.ZIPKIN_PORT}")
        assert ["/var/log/tracelog/*.log"] == receivers["filelog"]["include"]
        trace_parser = next(
            op for op in receivers["filelog"]["operators"] if op["type"] == "trace_parser"
        )
        from tracelog.schemas import DEFAULT

        assert {
            "trace_id": f"attributes.{DEFAULT.trace_id_key}",
            "span_id": f"attributes.{DEFAULT.span_id_key}",
            "trace_flags": f"attributes.{DEFAULT.flags_key}",
        } == {k: v["parse_from"] for k, v in trace_parser.items() if k != "type"}
        pipelines = config["service"]["pipelines"]
        assert {"otlp", "zipkin"} <= set(pipelines["traces"]["receivers"])
        assert "filelog" in pipelines["logs"]["receivers"]
        assert config["exporters"]["zipkin"]["endpoint"].endswith(demo.ZIPKIN_PATH)

    def test_recipes_are_valid_yaml(self) -> None:
        """Every YAML block in docs/shipping.md parses."""
        text = (ROOT / "docs/shipping.md").read_text()
        blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
        assert len(blocks) >= 5
        for block in blocks:
            assert yaml.safe_load(block) is not None


def services_volumes(service: dict[str, Any]) -> dict[str, str]:
    out = {}
    for volume in service["volumes"]:
        src, dst, *_ = volume.split(":")
        out[src] = dst
    return out
