"""Configuration: one TOML file, ``${VAR}`` in any string value reads the environment.

Top-level tables: ``store``, ``server``, ``connections.<name>``, ``sites`` (array),
``integrations`` (array) and ``queue`` (read by :mod:`bridge.queue`); see ``DESIGN.md``
for the contract. Secrets are kept out of ``repr`` so a config object can be logged safely.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bridge.errors import ConfigError
from bridge.kinds import connection_kinds

if TYPE_CHECKING:
    from collections.abc import Callable

    from bridge.auth import SharedTokens

DIRECTIONS = ("source-to-target", "target-to-source", "both")
SECRET_KEYS = frozenset(
    {"password", "client_secret", "refresh_token", "access_token", "token", "password_hash"}
)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
T = TypeVar("T")


def expand_env(value: Any, env: Mapping[str, str], where: str = "") -> Any:
    """Replace ``${VAR}`` (or ``${VAR:-default}``) in every string, recursively."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{where or 'config'}: environment variable {name} is not set")

        return _VAR.sub(replace, value)
    if isinstance(value, list):
        return [expand_env(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand_env(v, env, f"{where}.{k}" if where else k) for k, v in value.items()}
    return value


def _redacted(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in SECRET_KEYS and v else v) for k, v in settings.items()}


@dataclass(slots=True)
class ConnectionConfig:
    """One remote system: ``kind`` plus that system's endpoint and credentials."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    # Where OAuth tokens are shared with the other processes of the same account (the
    # store's ``oauth_tokens``); given by the entry point that has a store, never in a file.
    shared_tokens: SharedTokens | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        settings = _redacted(self.settings)
        return f"ConnectionConfig(name={self.name!r}, kind={self.kind!r}, settings={settings!r})"

    def require(self, *keys: str) -> None:
        missing = [k for k in keys if self.settings.get(k) in (None, "")]
        if missing:
            raise ConfigError(
                f"connections.{self.name} ({self.kind}) lacks {', '.join(sorted(missing))}"
            )


@dataclass(slots=True)
class SiteConfig:
    """What a legacy consumer presents to the facade, and which connection serves it."""

    site_id: int
    connection: str
    username: str = ""
    password: str | None = field(default=None, repr=False)
    password_hash: str | None = field(default=None, repr=False)
    timezone: str = "UTC"


@dataclass(slots=True)
class IntegrationConfig:
    name: str
    source: str
    target: str
    direction: str = "source-to-target"
    schedule: str | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StoreConfig:
    url: str = "sqlite:///soapbridge.db"
    # Fernet key(s) for secrets at rest; None falls back to SOAPBRIDGE_SECRET_KEY.
    secret_key: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    connections: dict[str, ConnectionConfig] = field(default_factory=dict)
    sites: list[SiteConfig] = field(default_factory=list)
    integrations: list[IntegrationConfig] = field(default_factory=list)
    # The [queue] table as written; bridge.runs.queue_settings validates it (empty: no broker).
    queue: dict[str, Any] = field(default_factory=dict)
    source_path: Path | None = None

    def connection(self, name: str) -> ConnectionConfig:
        try:
            return self.connections[name]
        except KeyError:
            raise ConfigError(f"no connection named {name!r}") from None

    def integration(self, name: str) -> IntegrationConfig:
        for integration in self.integrations:
            if integration.name == name:
                return integration
        known = ", ".join(i.name for i in self.integrations) or "none"
        raise ConfigError(f"no integration named {name!r} (configured: {known})")


def _pop(table: dict[str, Any], key: str, where: str, kind: type, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}: missing key {key!r}")
        return default
    value = table.pop(key)
    if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # ${VAR} expansion always yields strings
    if not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _from_table(cls: type[T], table: dict[str, Any], where: str, **given: Any) -> T:
    """A ``cls`` from a TOML table: its fields' keys, types and defaults are the dataclass's.

    Each field (but those ``given``) is popped from ``table`` and checked against its type
    (``X | None`` takes an X); a field without a default must be there.
    """
    hints = typing.get_type_hints(cls)
    values = dict(given)
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        optional = item.default is not MISSING or item.default_factory is not MISSING
        if item.name not in given and (item.name in table or not optional):
            kind = typing.get_origin(hints[item.name]) or hints[item.name]
            if kind is types.UnionType:
                kind = typing.get_args(hints[item.name])[0]
            values[item.name] = _pop(table, item.name, where, kind)
    return cls(**values)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Config:
    """Build a :class:`Config` from already-parsed TOML data."""
    raw = expand_env(dict(data), os.environ if env is None else env)
    config = Config()
    store = dict(raw.pop("store", {}))
    config.store = StoreConfig(
        url=_pop(store, "url", "store", str, "sqlite:///soapbridge.db"),
        secret_key=_pop(store, "secret_key", "store", str, None) or None,
    )
    if store:
        raise ConfigError(f"store: unknown key(s) {', '.join(sorted(store))}")
    server = dict(raw.pop("server", {}))
    config.server = _from_table(ServerConfig, server, "server", options=server)
    for name, table in dict(raw.pop("connections", {})).items():
        table = dict(table)
        kind = _pop(table, "kind", f"connections.{name}", str)
        if kind not in (known := connection_kinds()):
            raise ConfigError(f"connections.{name}.kind: {kind!r} is not one of {', '.join(known)}")
        config.connections[name] = ConnectionConfig(name=name, kind=kind, settings=table)
    for i, table in enumerate(raw.pop("sites", [])):
        where = f"sites[{i}]"
        site = _from_table(SiteConfig, dict(table), where)
        if site.connection not in config.connections:
            raise ConfigError(f"{where}.connection: no connection named {site.connection!r}")
        if site.password is None and site.password_hash is None:
            raise ConfigError(f"{where}: give password or password_hash")
        config.sites.append(site)
    for i, table in enumerate(raw.pop("integrations", [])):
        where = f"integrations[{i}]"
        rest = dict(table)
        integration = _from_table(IntegrationConfig, rest, where, options=rest)
        if integration.direction not in DIRECTIONS:
            raise ConfigError(
                f"{where}.direction: {integration.direction!r} is not one of "
                + ", ".join(DIRECTIONS)
            )
        for end in (integration.source, integration.target):
            if end not in config.connections:
                raise ConfigError(f"{where}: no connection named {end!r}")
        config.integrations.append(integration)
    config.queue = dict(_pop(raw, "queue", "config", dict, {}))
    if raw:
        raise ConfigError(f"unknown top-level table(s): {', '.join(sorted(raw))}")
    return config


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a TOML config file."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {file} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {file} is not valid TOML: {exc}") from exc
    config = parse_config(data)
    config.source_path = file
    return config


#: The environment variable every command reads its config file's path from.
CONFIG_ENV = "SOAPBRIDGE_CONFIG"


def config_option(
    help: str = f"The TOML config file (or {CONFIG_ENV}).",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--config FILE`` option (or ``SOAPBRIDGE_CONFIG``) of a command that reads one."""
    return click.option(
        "--config",
        "config_path",
        envvar=CONFIG_ENV,
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help=help,
    )


def json_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--json`` flag (``as_json``) of a command that prints JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help=help)
