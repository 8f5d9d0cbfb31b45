"""The legacy contract's record table is the WSDL's: every struct, element, type and order."""

from __future__ import annotations

from lxml import etree

from bridge.soap.contract import NAMESPACE, wire, wsdl_bytes
from bridge.soap.contract.record import STRUCTS

XS = "{http://www.w3.org/2001/XMLSchema}"
WSDL_NS = "{http://schemas.xmlsoap.org/wsdl/}"
SCALARS = {"s:string": "s", "s:int": "i", "s:boolean": "b", "s:dateTime": "d"}


def declared(schema: etree._Element, name: str) -> list[tuple[str, str]]:
    """(element, kind) of one complexType, with kinds written the contract table's way."""
    complex_type = schema.find(f"{XS}complexType[@name='{name}']")
    assert complex_type is not None, name
    fields = []
    for element in complex_type.find(f"{XS}sequence"):
        type_name = element.get("type")
        if type_name in SCALARS:
            fields.append((element.get("name"), SCALARS[type_name]))
        else:  # tns:ArrayOfX holds elements of type X
            assert type_name.startswith("tns:ArrayOf"), type_name
            fields.append((element.get("name"), type_name.removeprefix("tns:ArrayOf")))
    return fields


def test_every_struct_matches_the_wsdl():
    root = etree.fromstring(wsdl_bytes())
    schema = root.find(f"{WSDL_NS}types")[0]
    assert schema.get("targetNamespace") == NAMESPACE
    for name, fields in STRUCTS.items():
        assert fields == declared(schema, name), name


def test_inner_structs_come_before_their_holders():
    seen: set[str] = set()
    for name, fields in STRUCTS.items():
        for _, kind in fields:
            assert len(kind) == 1 or kind in seen, (name, kind)
        seen.add(name)


def test_a_get_for_the_wsdl_names_the_callers_address():
    answers: list[tuple[str, list[tuple[str, str]]]] = []
    environ = {
        "QUERY_STRING": "WSDL",
        "HTTP_HOST": 'example.test:8080"<',
        "PATH_INFO": wire.SERVICE_PATH,
    }
    body = b"".join(wire.answer_get(environ, lambda s, h: answers.append((s, h))))
    assert answers[0][0] == "200 OK"
    assert ("Content-Length", str(len(body))) in answers[0][1]
    assert wire.PLACEHOLDER_ADDRESS not in body
    address = etree.fromstring(body).find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == f'http://example.test:8080"<{wire.SERVICE_PATH}'
