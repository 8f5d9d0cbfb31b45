"""The JSON documents of the control plane, and the checks on what clients send.

Shapes follow integrator.io [V]: ``_id`` (24 hex), ``lastModified`` (ISO, ms, ``Z``),
integration ``mode``/``settings``/``version``/``updateInProgress``/``install``; jobs with
``status``, ``numSuccess``, ``numError``, ``numIgnore``. How the bridge's counts map onto
integrator.io's is [I]: success = created + updated, ignore = unchanged, error = failed,
export = records read.
"""

from __future__ import annotations

from typing import Any

from croniter import croniter

from bridge.api.runs import changes_flow_from
from bridge.api.web import ApiError, invalid, iso
from bridge.config import DIRECTIONS
from bridge.connectors.base import Capability
from bridge.connectors.registry import capabilities_of
from bridge.errors import ConfigError
from bridge.kinds import connection_kinds
from bridge.runs.options import OPTION_KEYS
from bridge.runs.wiring import Wiring
from bridge.store import Connection, Integration, Job, JobError
from bridge.sync.deletes import POLICIES as DELETE_POLICIES
from bridge.sync.engine import CONFLICT_POLICIES
from bridge.sync.fieldmap import FieldMap

SETTINGS_KEYS = ("source", "target", "direction", "schedule", "mapping", "options")
INSTALLER_FUNCTIONS = ("verifyConnection", "createBiginWatch", "createHubSpotProperty")
STEP_KEYS = ("name", "description", "installerFunction", "_connectionId")


def integration_document(wiring: Wiring, integration: Integration) -> dict[str, Any]:
    return {
        "_id": integration.id,
        "name": integration.name,
        "readme": integration.readme,
        "mode": integration.mode,
        "settings": integration.settings,
        "version": integration.version,
        "updateInProgress": integration.update_in_progress,
        "install": integration.install_steps,
        "managedBy": wiring.integration_managed_by(integration),
        "createdAt": iso(integration.created_at),
        "lastModified": iso(integration.last_modified),
    }


def connection_document(wiring: Wiring, connection: Connection) -> dict[str, Any]:
    """A connection without its secrets: only the names of those that are set."""
    return {
        "_id": connection.id,
        "name": connection.name,
        "type": connection.kind,
        "settings": connection.settings,
        "secretKeys": list(connection.secret_keys),
        "managedBy": wiring.connection_managed_by(connection),
        "createdAt": iso(connection.created_at),
        "lastModified": iso(connection.last_modified),
    }


def job_document(job: Job) -> dict[str, Any]:
    return {
        "_id": job.id,
        "type": job.type,
        "_integrationId": job.integration_id,
        "direction": job.direction,
        "status": job.status,
        "numExport": job.num_read,
        "numSuccess": job.num_created + job.num_updated,
        "numError": job.num_failed,
        "numIgnore": job.num_unchanged,
        "numCreated": job.num_created,
        "numUpdated": job.num_updated,
        "numConflicts": job.num_conflicts,
        "numDeleted": job.num_deleted,
        "error": job.error,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "endedAt": iso(job.finished_at),
        "duration": job.duration,
        "lastModified": iso(job.last_modified),
    }


def job_error_document(error: JobError) -> dict[str, Any]:
    return {
        "_jobId": error.job_id,
        "code": error.code,
        "message": error.message,
        "source": error.source,
        "recordKey": error.record_key,
        "createdAt": iso(error.created_at),
    }


# -- validation ----------------------------------------------------------------------------


def text_field(
    body: dict[str, Any],
    name: str,
    *,
    required: bool,
    max_length: int = 200,
    blank: bool = False,
    nullable: bool = False,
) -> Any:
    """``body[name]`` as a string of at most ``max_length``; blank only when ``blank``.

    None when absent (or null, when ``nullable``).
    """
    value = body.get(name)
    if value is None:
        if required or (name in body and not nullable):
            raise invalid(name, f"`{name}` is required" if required else f"`{name}` cannot be null")
        return None
    if not isinstance(value, str) or len(value) > max_length or not (blank or value.strip()):
        what = "a string" if blank else "a string with a non-blank character"
        raise invalid(name, f"`{name}` must be {what}, at most {max_length} long")
    return value


def object_field(body: dict[str, Any], name: str) -> dict[str, Any]:
    """``body[name]`` when it is an object, ``{}`` when absent; anything else is refused."""
    if name not in body:
        return {}
    value = body[name]
    if not isinstance(value, dict):
        raise invalid(name, f"`{name}` must be an object")
    return value


def check_settings(wiring: Wiring, settings: Any) -> dict[str, Any]:
    """The integration settings, each key checked; unknown keys are refused."""
    if not isinstance(settings, dict):
        raise invalid("settings", "`settings` must be an object")
    unknown = sorted(set(settings) - set(SETTINGS_KEYS))
    if unknown:
        raise invalid(f"settings.{unknown[0]}", f"unknown setting `{unknown[0]}`")
    for end in ("source", "target"):
        ident = settings.get(end)
        if ident is None:
            continue
        if not isinstance(ident, str) or wiring.store.connections.get(ident) is None:
            raise ApiError(
                422, "invalid_ref", f"no connection with _id {ident!r}", field=f"settings.{end}"
            )
    direction = settings.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        raise invalid("settings.direction", f"`direction` must be one of {', '.join(DIRECTIONS)}")
    schedule = settings.get("schedule")
    if schedule is not None and (not isinstance(schedule, str) or not croniter.is_valid(schedule)):
        raise invalid("settings.schedule", "`schedule` must be a cron expression")
    mapping = settings.get("mapping")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise invalid("settings.mapping", "`mapping` must be an object")
        exclude = mapping.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
            raise invalid("settings.mapping.exclude", "`exclude` must be an array of field names")
        if not isinstance(mapping.get("defaults", {}), dict):
            raise invalid("settings.mapping.defaults", "`defaults` must be an object")
        renames = mapping.get("custom_fields", {})
        if not isinstance(renames, dict) or not all(isinstance(v, str) for v in renames.values()):
            raise invalid("settings.mapping.custom_fields", "`custom_fields` maps names to names")
        try:
            FieldMap.from_config(mapping, "mapping")
        except (ConfigError, TypeError, ValueError) as exc:
            raise invalid("settings.mapping", str(exc)) from None
    options = settings.get("options")
    if options is not None:
        _check_options(options)
    return dict(settings)


def _check_options(options: Any) -> None:
    if not isinstance(options, dict) or set(options) - OPTION_KEYS:
        raise invalid("settings.options", f"`options` takes {', '.join(sorted(OPTION_KEYS))}")
    workers = options.get("workers", 4)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise invalid("settings.options.workers", "`workers` must be an integer from 1 to 64")
    overlap = options.get("overlap_seconds", 0)
    if isinstance(overlap, bool) or not isinstance(overlap, int | float) or overlap < 0:
        raise invalid("settings.options.overlap_seconds", "`overlap_seconds` must be >= 0")
    if options.get("conflict_policy", "latest") not in CONFLICT_POLICIES:
        raise invalid(
            "settings.options.conflict_policy",
            f"`conflict_policy` must be one of {', '.join(CONFLICT_POLICIES)}",
        )
    _check_delete_options(options)


def _check_delete_options(options: dict[str, Any]) -> None:
    if options.get("deletes", "flag") not in DELETE_POLICIES:
        raise invalid(
            "settings.options.deletes", f"`deletes` must be one of {', '.join(DELETE_POLICIES)}"
        )
    fraction = options.get("max_delete_fraction", 0.05)
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, int | float)
        or not 0 <= fraction <= 1
    ):
        raise invalid(
            "settings.options.max_delete_fraction", "`max_delete_fraction` must be 0 to 1"
        )
    limit = options.get("max_deletes", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise invalid("settings.options.max_deletes", "`max_deletes` must be an integer >= 0")
    if not isinstance(options.get("reconcile", False), bool):
        raise invalid("settings.options.reconcile", "`reconcile` must be true or false")
    schedule = options.get("reconcile_schedule")
    if schedule is not None and not isinstance(schedule, str):
        raise invalid("settings.options.reconcile_schedule", "`reconcile_schedule` is cron text")


def check_install_steps(wiring: Wiring, steps: Any) -> list[dict[str, Any]]:
    if not isinstance(steps, list):
        raise invalid("install", "`install` must be an array of steps")
    checked = []
    for i, step in enumerate(steps):
        where = f"install[{i}]"
        if not isinstance(step, dict):
            raise invalid(where, "a step must be an object")
        function = step.get("installerFunction")
        if function not in INSTALLER_FUNCTIONS:
            raise invalid(
                f"{where}.installerFunction",
                f"`installerFunction` must be one of {', '.join(INSTALLER_FUNCTIONS)}",
            )
        connection_id = step.get("_connectionId")
        known = isinstance(connection_id, str) and wiring.store.connections.get(connection_id)
        if not known:
            raise ApiError(
                422,
                "invalid_ref",
                f"no connection with _id {connection_id!r}",
                field=f"{where}._connectionId",
            )
        name = step.get("name") or function
        description = step.get("description") or ""
        if not isinstance(name, str) or not isinstance(description, str):
            raise invalid(where, "`name` and `description` must be strings")
        checked.append(
            {
                "name": name,
                "description": description,
                "completed": False,
                "installerFunction": function,
                "_connectionId": connection_id,
            }
        )
    return checked


def default_install_steps(wiring: Wiring, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Verify each end's credentials; HubSpot's External ID property; then a watch channel
    on each Bigin end whose changes flow."""
    steps: list[dict[str, Any]] = []
    ends = [settings.get(end) for end in ("source", "target")]
    for ident in dict.fromkeys(i for i in ends if i):
        connection = wiring.connection(ident)
        steps.append(
            {
                "name": f"Verify {connection.name}",
                "description": f"Check the credentials of the {connection.kind} connection.",
                "completed": False,
                "installerFunction": "verifyConnection",
                "_connectionId": ident,
            }
        )
    for ident in dict.fromkeys(i for i in ends if i):
        connection = wiring.connection(ident)
        if Capability.CUSTOM_PROPERTIES in capabilities_of(connection.kind):
            steps.append(
                {
                    "name": f"External ID on {connection.name}",
                    "description": "Create HubSpot's unique contact property for the External ID.",
                    "completed": False,
                    "installerFunction": "createHubSpotProperty",
                    "_connectionId": ident,
                }
            )
    for end in ("source", "target"):
        ident = settings.get(end)
        if not ident or not changes_flow_from(settings, end):
            continue  # no watch where the integration would ignore the notifications
        connection = wiring.connection(ident)
        if Capability.WATCH_CHANNELS in capabilities_of(connection.kind) and not any(
            s["_connectionId"] == ident and s["installerFunction"] == "createBiginWatch"
            for s in steps
        ):
            steps.append(
                {
                    "name": f"Watch {connection.name}",
                    "description": "Subscribe to Bigin's notifications of contact changes.",
                    "completed": False,
                    "installerFunction": "createBiginWatch",
                    "_connectionId": ident,
                }
            )
    return steps


def check_connection_type(value: Any) -> str:
    if value not in (known := connection_kinds()):
        raise invalid("type", f"`type` must be one of {', '.join(known)}")
    return str(value)


def check_connection_settings(value: Any, *, field: str = "settings") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, "`settings` must be an object")
    for key, item in value.items():
        if not isinstance(key, str) or isinstance(item, (dict, list)):
            raise invalid(f"{field}.{key}", "connection settings are flat: strings and numbers")
    return dict(value)
