"""docker/compose.scale.yaml: Redis, workers and the scheduler on top of compose.yaml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from bridge.cli import COMMANDS
from bridge.config import parse_config
from bridge.runs.queue_settings import QueueSettings

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_the_scale_file_adds_redis_workers_and_scheduler_with_health_checks():
    base = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    scale = yaml.safe_load((DOCKER / "compose.scale.yaml").read_text())
    services = scale["services"]
    assert {"redis", "worker", "scheduler"} <= set(services)
    assert set(services) - {"redis", "worker", "scheduler"} <= set(base["services"])
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    for name in ("worker", "scheduler"):
        service = services[name]
        assert service["image"] == base["services"]["soapbridge"]["image"]
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        assert service["environment"]["SOAPBRIDGE_BROKER_URL"].startswith("redis://redis:")
        # The image's entrypoint is `soapbridge`: the command must be one of its commands.
        assert service["command"][0] in COMMANDS, name
    assert "bridge.queue.celery_app" in " ".join(services["worker"]["healthcheck"]["test"])
    for name, service in services.items():
        if name == "soapbridge":
            continue  # compose.yaml gives it its health check
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert all(key in check for key in ("interval", "timeout", "retries")), name


def test_the_container_config_queues_runs_only_with_a_broker():
    data = tomllib.loads((DOCKER / "soapbridge.toml").read_text())
    assert QueueSettings.from_config(parse_config(data, env={})) is None
    with_broker = parse_config(data, env={"SOAPBRIDGE_BROKER_URL": "redis://redis:6379/0"})
    settings = QueueSettings.from_config(with_broker)
    assert settings is not None and settings.broker_url == "redis://redis:6379/0"
