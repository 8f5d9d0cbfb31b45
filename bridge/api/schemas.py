"""Component schemas of the OpenAPI document: the JSON shapes of the control plane.

Kept beside :mod:`bridge.api.documents`, which builds the same shapes; the schemathesis
run in the tests holds the two together.
"""

from __future__ import annotations

from typing import Any

from bridge.api.documents import INSTALLER_FUNCTIONS
from bridge.api.jobs import JOB_TYPES
from bridge.config import DIRECTIONS
from bridge.kinds import connection_kinds
from bridge.store.repos.jobs import STATUSES
from bridge.sync.deletes import POLICIES as DELETE_POLICIES
from bridge.sync.engine import CONFLICT_POLICIES


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


NULLABLE_TEXT = {"type": "string", "nullable": True}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
NAME = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}

#: An install step as answered; a client sends the same without ``completed``.
STEP_PROPERTIES = {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "completed": {"type": "boolean"},
    "installerFunction": {"type": "string", "enum": list(INSTALLER_FUNCTIONS)},
    "_connectionId": {"type": "string"},
}
#: What a client may send for a new integration; a change sends the same but ``install``.
INTEGRATION_INPUT = {
    "name": NAME,
    "readme": {"type": "string", "maxLength": 100000, "nullable": True},
    "settings": ref("Settings"),
    "version": {**NAME, "maxLength": 32},
    "updateInProgress": {"type": "boolean"},
    "install": {"type": "array", "items": ref("InstallStepInput")},
}


def _without(properties: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if key != name}


SCHEMAS: dict[str, Any] = {
    "Errors": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string"},
                    },
                },
            }
        },
    },
    "Settings": {
        "type": "object",
        "additionalProperties": False,
        "description": "The bridge's settings: its two ends (connection _ids) and how it runs.",
        "properties": {
            "source": NULLABLE_TEXT,
            "target": NULLABLE_TEXT,
            "direction": {"type": "string", "enum": [*DIRECTIONS, None], "nullable": True},
            "schedule": {**NULLABLE_TEXT, "description": "A cron expression."},
            "mapping": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {
                    "exclude": {"type": "array", "items": {"type": "string"}},
                    "defaults": {"type": "object"},
                    "custom_fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                    },
                },
            },
            "options": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {
                    "overlap_seconds": {"type": "number", "minimum": 0},
                    "workers": {"type": "integer", "minimum": 1, "maximum": 64},
                    "conflict_policy": {"type": "string", "enum": list(CONFLICT_POLICIES)},
                    "deletes": {"type": "string", "enum": list(DELETE_POLICIES)},
                    "max_delete_fraction": {"type": "number", "minimum": 0, "maximum": 1},
                    "max_deletes": {"type": "integer", "minimum": 0},
                    "reconcile": {"type": "boolean"},
                    "reconcile_schedule": {"type": "string"},
                },
            },
        },
    },
    "InstallStep": {
        "type": "object",
        "required": ["name", "completed", "installerFunction", "_connectionId"],
        "properties": STEP_PROPERTIES,
    },
    "InstallStepInput": {
        "type": "object",
        "required": ["installerFunction", "_connectionId"],
        "properties": _without(STEP_PROPERTIES, "completed"),
    },
    "Integration": {
        "type": "object",
        "required": ["_id", "name", "mode", "settings", "version", "updateInProgress", "install"],
        "properties": {
            "_id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "name": {"type": "string"},
            "readme": {"type": "string"},
            "mode": {"type": "string", "enum": ["install", "settings", "uninstall"]},
            "settings": {"type": "object"},
            "version": {"type": "string"},
            "updateInProgress": {"type": "boolean"},
            "install": {"type": "array", "items": ref("InstallStep")},
            "managedBy": {"type": "string", "enum": ["api", "config"]},
            "createdAt": TIME,
            "lastModified": TIME,
        },
    },
    "IntegrationInput": {
        "type": "object",
        "required": ["name"],
        "properties": INTEGRATION_INPUT,
    },
    "IntegrationUpdate": {
        "type": "object",
        "description": "Fields to change; the others keep their values.",
        "properties": _without(INTEGRATION_INPUT, "install"),
    },
    "CloneRequest": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": NAME,
            "connectionMap": {
                "type": "object",
                "description": "Connection _id of the original -> _id for the clone.",
                "additionalProperties": {"type": "string"},
            },
        },
    },
    "Connection": {
        "type": "object",
        "required": ["_id", "name", "type", "settings", "secretKeys"],
        "properties": {
            "_id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "name": {"type": "string"},
            "type": {"type": "string", "enum": connection_kinds()},
            "settings": {"type": "object", "description": "Non-secret settings only."},
            "secretKeys": {"type": "array", "items": {"type": "string"}},
            "managedBy": {"type": "string", "enum": ["api", "config"]},
            "createdAt": TIME,
            "lastModified": TIME,
        },
    },
    "ConnectionSettings": {
        "type": "object",
        "description": "Flat settings; secret ones (password, client_secret, refresh_token, "
        "token, access_token) are stored encrypted and never returned.",
        "additionalProperties": {
            "nullable": True,
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        },
    },
    "ConnectionInput": {
        "type": "object",
        "required": ["name", "type"],
        "properties": {
            "name": NAME,
            "type": {"type": "string", "enum": connection_kinds()},
            "settings": ref("ConnectionSettings"),
        },
    },
    "ConnectionUpdate": {
        "type": "object",
        "description": "settings are merged into the stored ones; null removes a key.",
        "properties": {"settings": ref("ConnectionSettings")},
    },
    "Job": {
        "type": "object",
        "required": ["_id", "type", "_integrationId", "status", "numSuccess", "numError"],
        "properties": {
            "_id": {"type": "string"},
            "type": {"type": "string", "enum": list(JOB_TYPES)},
            "_integrationId": {"type": "string"},
            "direction": NULLABLE_TEXT,
            "status": {"type": "string", "enum": list(STATUSES)},
            **{
                name: {"type": "integer", "minimum": 0}
                for name in (
                    "numExport",
                    "numSuccess",
                    "numError",
                    "numIgnore",
                    "numCreated",
                    "numUpdated",
                    "numConflicts",
                    "numDeleted",
                )
            },
            "error": NULLABLE_TEXT,
            "createdAt": TIME,
            "startedAt": NULLABLE_TIME,
            "endedAt": NULLABLE_TIME,
            "duration": {"type": "number", "nullable": True},
            "lastModified": TIME,
        },
    },
    "JobError": {
        "type": "object",
        "required": ["_jobId", "message"],
        "properties": {
            "_jobId": {"type": "string"},
            "code": NULLABLE_TEXT,
            "message": {"type": "string"},
            "source": NULLABLE_TEXT,
            "recordKey": NULLABLE_TEXT,
            "createdAt": TIME,
        },
    },
    "TokenInfo": {
        "type": "object",
        "required": ["_userId"],
        "properties": {
            "_userId": {"type": "string"},
            "_tokenId": {"type": "string"},
            "name": {"type": "string"},
            "scope": {"type": "string"},
            "createdAt": TIME,
        },
    },
}
