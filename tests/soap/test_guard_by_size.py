"""The XML guard's shortcut: a body whose bytes show no limit can be passed skips the
per-element walk; any other body is walked, with the same faults as before."""

from __future__ import annotations

import pytest

from bridge.soap.contract.wire import RequestRejected, XmlLimits, parse_request


def test_limits_hold_at_their_bounds_whichever_way_a_body_is_checked() -> None:
    body = b'<a x="1" y="2"><b>four</b><c/></a>'
    assert parse_request(body, XmlLimits(max_attributes=2, max_elements=3, max_text=4)) is not None
    with pytest.raises(RequestRejected, match="more than 1 attributes"):
        parse_request(body, XmlLimits(max_attributes=1))
    with pytest.raises(RequestRejected, match="more than 2 elements"):
        parse_request(body, XmlLimits(max_elements=2))
    with pytest.raises(RequestRejected, match="longer than 3 characters"):
        parse_request(body, XmlLimits(max_text=3))


def test_a_body_whose_markup_bytes_are_not_ascii_is_walked() -> None:
    # In UTF-7 "=" may be written "+AD0-": the body has two "=" bytes (in its declaration)
    # but three attributes on one element; counting bytes would let it through.
    body = b'<?xml version="1.0" encoding="UTF-7"?><a x+AD0-"1" y+AD0-"2" z+AD0-"3">hi</a>'
    assert body.count(b"=") == 2
    with pytest.raises(RequestRejected, match="more than 2 attributes"):
        parse_request(body, XmlLimits(max_attributes=2))
