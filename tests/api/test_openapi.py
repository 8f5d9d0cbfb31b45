"""The OpenAPI document against the live server: schemathesis, a bounded number of examples."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from bridge.api import build_control_plane
from bridge.api.openapi import openapi_document
from bridge.emulators.kit.server import EmulatorServer
from bridge.store import Store

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """One server for the module, with a connection and an integration to find."""
    from cryptography.fernet import Fernet

    path = tmp_path_factory.mktemp("openapi") / "store.db"
    store = Store(f"sqlite:///{path}", secret_key=Fernet.generate_key().decode())
    store.migrate()
    connection = store.connections.create("crm", "legacy", {"endpoint": "http://127.0.0.1:9/x"})
    store.integrations.create("seeded", settings={"source": connection.id})
    plane = build_control_plane(None, store, renew_every=None)
    server = EmulatorServer(plane).start()
    _record, token = store.api_tokens.issue("schemathesis")
    yield server.url, {"Authorization": f"Bearer {token}"}
    server.stop()
    plane.close()
    store.dispose()


def test_the_api_behaves_as_its_openapi_document_says(live):
    """Every operation, 8 generated examples each, in one test item.

    One item rather than ``schema.parametrize()``: its items share one node id, and the
    parallel runner would schedule only one of them.
    """
    url, headers = live
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            database=None,  # no .hypothesis directory left in the work tree
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def check(case: schemathesis.Case) -> None:
            # A body valid by the schema may still name connections that do not exist (422
            # invalid_ref): reference checks are beyond a schema, so that check is left out.
            case.call_and_validate(
                base_url=url,
                headers=headers,
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
            )

        check()
        checked.append(operation.label)
    assert len(checked) == len(set(checked)) >= 15


def test_the_document_is_openapi_3_and_lists_every_route():
    from bridge.api.app import ROUTES, _openapi_path

    document = openapi_document()
    assert document["openapi"] == "3.0.3"
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    routed = {(_openapi_path(path), methods[0]) for path, methods, _h, _t in ROUTES}
    webhooks = {("/webhooks/bigin", "POST"), ("/webhooks/hubspot", "POST")}
    assert documented == routed - webhooks
