"""The spyne service: the contract's seven contact operations, named and typed as in ``wsdl/``.

spyne parses each request into the declared types (leniently: no validator, so a missing
value-type element is None) and dispatches it here. The methods hand their work to
:class:`ContactFacade` and leave the written answer (an XML fragment, or a fault) on the
request's :class:`RequestScope`; the WSGI layer wraps it in the legacy envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spyne import Application, Boolean, DateTime, Integer32, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11, Soap12

from bridge.facade.models import ArrayOfContactRecord, ContactRecord, to_dict
from bridge.facade.operations import ContactFacade, FacadeFault, translate_errors
from bridge.wsdl import NAMESPACE


@dataclass(slots=True)
class RequestScope:
    """Per-request state spyne carries as ``ctx.udc``."""

    facade: ContactFacade
    children: str = ""
    fault: FacadeFault | None = None


def _run(ctx: Any, work: Callable[[ContactFacade], str]) -> None:
    scope: RequestScope = ctx.udc
    try:
        scope.children = work(scope.facade)
    except Exception as exc:
        # Caught here rather than by spyne, which would log every refusal as critical.
        scope.fault = translate_errors(exc)


def _boolean(name: str, value: bool) -> str:
    return f"<{name}>{'true' if value else 'false'}</{name}>"


_CREDS = (Unicode, Unicode, Integer32)
Str = str | None
Int = int | None


class CatalystCRMWebservice(ServiceBase):
    """Method and argument names are the contract's element names, hence the camelCase."""

    @rpc(
        *_CREDS,
        DateTime,
        Integer32,
        Boolean,
        _returns=(ArrayOfContactRecord, Integer32, Boolean),
        _out_variable_names=("ContactList_RetrieveResult", "recordStart", "moreRecords"),
    )
    def ContactList_Retrieve(
        ctx: Any,
        username: Str,
        password: Str,
        siteId: Int,
        lastUpdateDate: datetime | None,
        recordStart: Int,
        moreRecords: bool | None,
    ) -> None:
        # The request's moreRecords is ignored, as the original service does.
        _run(
            ctx,
            lambda f: f.retrieve(f.login(username, password, siteId), lastUpdateDate, recordStart),
        )

    @rpc(*_CREDS, ArrayOfContactRecord)
    def ContactList_UpdateInsert(
        ctx: Any, username: Str, password: Str, siteId: Int, contactsList: list[Any] | None
    ) -> None:
        def work(f: ContactFacade) -> str:
            site = f.login(username, password, siteId)
            f.update_insert(site, [to_dict(r) for r in (contactsList or []) if r is not None])
            return ""

        _run(ctx, work)

    @rpc(*_CREDS, Integer32, _returns=ContactRecord)
    def Contact_RetrieveByEntityID(
        ctx: Any, username: Str, password: Str, siteId: Int, entityId: Int
    ) -> None:
        _run(ctx, lambda f: f.by_entity_id(f.login(username, password, siteId), entityId))

    @rpc(*_CREDS, Unicode, _returns=ContactRecord)
    def Contact_RetrieveByEmailAddress(
        ctx: Any, username: Str, password: Str, siteId: Int, emailAddress: Str
    ) -> None:
        _run(ctx, lambda f: f.by_email(f.login(username, password, siteId), emailAddress))

    @rpc(*_CREDS, Unicode, _returns=ContactRecord)
    def Contact_RetrieveByExternalID(
        ctx: Any, username: Str, password: Str, siteId: Int, externalId: Str
    ) -> None:
        _run(ctx, lambda f: f.by_external_id(f.login(username, password, siteId), externalId))

    @rpc(*_CREDS, Integer32, _returns=Boolean)
    def Contact_DeleteByEntityID(
        ctx: Any, username: Str, password: Str, siteId: Int, entityId: Int
    ) -> None:
        _run(
            ctx,
            lambda f: _boolean(
                "Contact_DeleteByEntityIDResult",
                f.delete_by_entity_id(f.login(username, password, siteId), entityId),
            ),
        )

    @rpc(*_CREDS, Unicode, _returns=Boolean)
    def Contact_DeleteByEmailAddress(
        ctx: Any, username: Str, password: Str, siteId: Int, email: Str
    ) -> None:
        _run(
            ctx,
            lambda f: _boolean(
                "Contact_DeleteByEmailAddressResult",
                f.delete_by_email(f.login(username, password, siteId), email),
            ),
        )


OPERATIONS = frozenset(
    name for name in vars(CatalystCRMWebservice) if name.startswith(("Contact", "ContactList"))
)


def build_applications() -> dict[int, Application]:
    """One spyne Application per SOAP version (spyne binds one protocol per app)."""
    return {
        11: Application(
            [CatalystCRMWebservice],
            tns=NAMESPACE,
            name="CatalystCRMWebservice",
            in_protocol=Soap11(validator=None),
            out_protocol=Soap11(),
        ),
        12: Application(
            [CatalystCRMWebservice],
            tns=NAMESPACE,
            name="CatalystCRMWebservice",
            in_protocol=Soap12(validator=None),
            out_protocol=Soap12(),
        ),
    }
