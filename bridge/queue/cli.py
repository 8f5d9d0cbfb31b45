"""``soapbridge worker``: a Celery worker that runs queued syncs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bridge.config import CONFIG_ENV, config_option


@click.command()
@config_option(
    "The TOML config file (or SOAPBRIDGE_CONFIG); its [queue] table names the broker."
)
@click.option(
    "--concurrency",
    "-c",
    type=int,
    default=1,
    show_default=True,
    envvar="SOAPBRIDGE_WORKER_CONCURRENCY",
    help="Runs at once in this worker. Each run already overlaps its own reads and writes "
    "(the integration's `workers` option), so one per core is plenty.",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    envvar="SOAPBRIDGE_WORKER_POOL",
    help="prefork: a child process per slot (isolated); threads: lighter; solo: the worker "
    "process itself runs one task (tests, containers that scale by replicas).",
)
@click.option("--hostname", "-n", default=None, help="Worker name (default: celery@<host>).")
@click.option(
    "--loglevel", default="INFO", show_default=True, help="Celery's log level for the worker."
)
def worker(
    config_path: str, concurrency: int, pool: str, hostname: str | None, loglevel: str
) -> None:
    """Run queued syncs: a Celery worker on the [queue] broker (Ctrl-C stops it warmly)."""
    from bridge.config import load_config
    from bridge.errors import ConfigError
    from bridge.queue.app import build_app
    from bridge.queue.tasks import WorkerContext, install_context
    from bridge.runs.queue_settings import QueueSettings

    config = load_config(config_path)
    settings = QueueSettings.from_config(config)
    if settings is None:
        raise ConfigError(f"{config_path}: a worker needs [queue] broker_url")
    # Children of a prefork pool (and anything they spawn) find the config here.
    os.environ[CONFIG_ENV] = str(Path(config_path).resolve())
    install_context(WorkerContext(config, settings))
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--concurrency={max(1, concurrency)}",
        f"--pool={pool}",
        f"--queues={settings.name}",
        # No worker-to-worker chatter: runs coordinate through the store, not Celery.
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    build_app(settings).worker_main(argv)
