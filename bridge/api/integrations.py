"""``/v1/integrations``: CRUD, clone with ``connectionMap``, install steps, runs.

PUT changes only the fields it carries (``_id``, ``mode``, ``install`` and the times are
read-only; ``mode`` moves through the install steps). While ``updateInProgress`` is true,
a PUT that changes ``settings`` is refused with 409 ``update_in_progress``, as integrator.io
locks settings during a managed update [V]; the same PUT may clear the flag first.
Integrations from the config file are read-only here (403 ``managed_by_config``), but they
can be run and cloned.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Request, Response

from bridge.api.context import ApiContext
from bridge.api.documents import (
    check_install_steps,
    check_settings,
    default_install_steps,
    integration_document,
    job_document,
    object_field,
    text_field,
)
from bridge.api.installers import remove_channels, run_step
from bridge.api.web import (
    ApiError,
    PageRequest,
    invalid,
    json_body,
    json_response,
    paged_response,
)
from bridge.store import Integration, Job

_READ_ONLY = ("_id", "mode", "install", "lastModified", "createdAt", "managedBy")


def _doc(ctx: ApiContext, integration: Integration) -> dict[str, Any]:
    return integration_document(ctx.wiring, integration)


def _duplicate(name: str) -> ApiError:
    return ApiError(409, "duplicate_name", f"an integration named {name!r} exists", field="name")


def list_integrations(ctx: ApiContext, request: Request) -> Response:
    page = PageRequest.from_request(request)
    items = ctx.store.integrations.all(skip=page.skip, limit=page.limit)
    total = ctx.store.integrations.count()
    return paged_response(request, page, [_doc(ctx, i) for i in items], total)


def get_integration(ctx: ApiContext, request: Request, _id: str) -> Response:
    return json_response(_doc(ctx, ctx.integration(_id)))


def _version(body: dict[str, Any]) -> str | None:
    return text_field(body, "version", required=False, max_length=32)


def _readme(body: dict[str, Any]) -> str:
    return (
        text_field(body, "readme", required=False, max_length=100_000, blank=True, nullable=True)
        or ""
    )


def _flag(body: dict[str, Any]) -> bool | None:
    value = body.get("updateInProgress")
    if "updateInProgress" in body and not isinstance(value, bool):
        raise invalid("updateInProgress", "`updateInProgress` must be a boolean")
    return value


def create_integration(ctx: ApiContext, request: Request) -> Response:
    body = json_body(request)
    name = text_field(body, "name", required=True)
    readme = _readme(body)
    settings = check_settings(ctx.wiring, object_field(body, "settings"))
    if "install" in body:
        steps = check_install_steps(ctx.wiring, body["install"])
    else:
        steps = default_install_steps(ctx.wiring, settings)
    fields: dict[str, Any] = {
        "readme": readme,
        "settings": settings,
        "install_steps": steps,
        "mode": "install" if steps else "settings",
        "update_in_progress": bool(_flag(body)),
    }
    version = _version(body)
    if version is not None:
        fields["version"] = version
    try:
        integration = ctx.store.integrations.create(name, **fields)
    except IntegrityError:
        raise _duplicate(name) from None
    return json_response(_doc(ctx, integration), 201)


def update_integration(ctx: ApiContext, request: Request, _id: str) -> Response:
    integration = ctx.integration(_id)
    return json_response(_doc(ctx, apply_update(ctx, integration, json_body(request))))


def apply_update(ctx: ApiContext, integration: Integration, body: dict[str, Any]) -> Integration:
    """PUT's changes to ``integration`` (the API and the console both edit through here)."""
    ctx.check_writable(integration)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = text_field(body, "name", required=True)
    if "readme" in body:
        changes["readme"] = _readme(body)
    version = _version(body)
    if version is not None:
        changes["version"] = version
    flag = _flag(body)
    if flag is not None:
        changes["update_in_progress"] = flag
    if "settings" in body:
        settings = check_settings(ctx.wiring, body["settings"])
        if settings != integration.settings:
            if integration.update_in_progress:
                raise ApiError(
                    409,
                    "update_in_progress",
                    "settings cannot change while updateInProgress is true",
                    field="settings",
                )
            changes["settings"] = settings
    if not changes:
        return integration
    try:
        return ctx.store.integrations.update(integration.id, **changes)
    except IntegrityError:
        raise _duplicate(str(changes.get("name"))) from None


def delete_integration(ctx: ApiContext, request: Request, _id: str) -> Response:
    integration = ctx.integration(_id)
    ctx.check_writable(integration)
    remove_channels(ctx.wiring, integration.id)
    ctx.store.integrations.delete(integration.id)
    return Response(status=204)


def _remap(ident: Any, mapping: dict[str, str], field: str) -> Any:
    if not ident:
        return ident
    if ident not in mapping:
        raise ApiError(
            400,
            "invalid_connectionMap",
            f"connectionMap must map connection {ident!r}",
            field="connectionMap",
        )
    return mapping[ident]


def clone_integration(ctx: ApiContext, request: Request, _id: str) -> Response:
    """A copy under a new name, its connections swapped through ``connectionMap``.

    Every connection the integration names must be mapped (to itself to reuse it), as
    integrator.io requires [V]; the schedule is not copied [V]; install steps start over
    (the original's, remapped, or for an original without any, those its settings call for).
    """
    clone = clone_with_map(ctx, ctx.integration(_id), json_body(request))
    return json_response(_doc(ctx, clone), 201)


def clone_with_map(ctx: ApiContext, original: Integration, body: dict[str, Any]) -> Integration:
    """The clone POST's work: ``body`` holds ``name`` and ``connectionMap``."""
    name = text_field(body, "name", required=True)
    mapping = object_field(body, "connectionMap")
    if not all(isinstance(v, str) for v in mapping.values()):
        raise invalid("connectionMap", "`connectionMap` maps connection _ids to _ids")
    for target in mapping.values():
        if ctx.store.connections.get(target) is None:
            raise ApiError(
                422, "invalid_ref", f"no connection with _id {target!r}", field="connectionMap"
            )
    settings = dict(original.settings)
    for end in ("source", "target"):
        if end in settings:
            settings[end] = _remap(settings[end], mapping, end)
    settings["schedule"] = None
    steps = [
        {
            **step,
            "completed": False,
            "_connectionId": _remap(step.get("_connectionId"), mapping, "install"),
        }
        for step in original.install_steps
    ] or default_install_steps(ctx.wiring, settings)
    try:
        return ctx.store.integrations.create(
            name,
            readme=original.readme,
            settings=settings,
            version=original.version,
            install_steps=steps,
            mode="install" if steps else "settings",
        )
    except IntegrityError:
        raise _duplicate(name) from None


def install_step(ctx: ApiContext, request: Request, _id: str, step: int) -> Response:
    integration = ctx.integration(_id)
    updated = run_step(ctx.wiring, integration, step, ctx.public_url or request.host_url)
    return json_response(_doc(ctx, updated))


def run_integration(ctx: ApiContext, request: Request, _id: str) -> Response:
    integration = ctx.integration(_id)
    job = start_run(ctx, integration, **_run_flags(request))
    return json_response(job_document(job), 202)


def start_run(
    ctx: ApiContext,
    integration: Integration,
    *,
    reconcile: bool = False,
    confirm_deletes: bool = False,
) -> Job:
    """A queued run of ``integration`` (refused until installed and configured)."""
    if integration.mode != "settings":
        raise ApiError(409, "not_installed", "finish the install steps before running")
    try:
        ctx.wiring.integration_config(integration)
    except Exception as exc:
        raise ApiError(422, "not_configured", str(exc), field="settings") from None
    return ctx.runner.start(integration, reconcile=reconcile, confirm_deletes=confirm_deletes)


def _run_flags(request: Request) -> dict[str, bool]:
    """``{"confirmDeletes": true}`` carries deletes the mass-delete guard held back;
    ``{"reconcile": true}`` lists both sides' ids to find deletes first. Both optional."""
    body = json_body(request)
    flags = {}
    for wire, name in (("reconcile", "reconcile"), ("confirmDeletes", "confirm_deletes")):
        value = body.get(wire, False)
        if not isinstance(value, bool):
            raise ApiError(422, "invalid", f"`{wire}` is true or false", field=wire)
        flags[name] = value
    return flags
