"""Webhook deliveries, as a connector that declares ``Capability.WEBHOOKS`` receives them.

The control plane has one webhook route per such kind (``/webhooks/<kind>``) and knows
no vendor: the connector's :class:`WebhookReceiver` checks a delivery and reads it into a
:class:`Delivery` (ids to push, ids deleted), which the route files and pushes. A delivery
is trusted one of two ways, as the system does it: it names a watch channel and that
channel's token, which the control plane checks against the channels it keeps
(``by_channel``); or it is signed with a connection's secret, which the receiver checks
(:meth:`WebhookReceiver.signed_by`) against each connection of its kind.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery in no vendor's words."""

    #: What the answer counts as accepted (ids or events, as the system counts them).
    accepted: int
    #: Ids to push toward the integration's other side, in order.
    pushed: list[str]
    #: Ids deleted at the system: a tombstone each, on every integration of the connection.
    deleted: list[str]
    #: The kinds of event delivered (the name of a subscription's channel).
    events: tuple[str, ...] = ()
    #: ``by_channel`` deliveries: the channel named and its token.
    channel_id: str = ""
    token: str = field(default="", repr=False)


class WebhookReceiver(abc.ABC):
    """Checks and reads one system's webhook deliveries."""

    #: True: a delivery names a channel and its token (checked by the control plane).
    by_channel: bool = False
    #: The 413 answer's message for a body past the route's bound.
    too_large: str = "webhook bodies are small"
    #: The 401 answer's code and message for a delivery nobody sent.
    refused: tuple[str, str] = ("invalid_signature", "no connection signed this delivery")

    def signed_by(self, settings: Mapping[str, Any], request: SignedRequest) -> bool:
        """Whether the connection with ``settings`` signed this delivery (signed ones)."""
        raise NotImplementedError(f"{type(self).__name__} receives channel deliveries")

    @abc.abstractmethod
    def read(self, body: bytes) -> Delivery:
        """The delivery's content; ``ProtocolError`` when it is not one (a 400)."""

    def answer(self, delivery: Delivery, pushes: int) -> dict[str, Any]:
        """The JSON answer once accepted; ``pushes``: how many integrations got a push."""
        return {"accepted": delivery.accepted, "pushed": pushes}


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signature covers: the method, the full URL called, the raw body, the headers."""

    method: str
    uri: str
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
