"""The project's WSDL is structurally the legacy contract for the contact operations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from reference import REFERENCE_WSDL

from bridge.wsdl import NAMESPACE, wsdl_path

CONTACT_OPERATIONS = [
    "ContactList_Retrieve",
    "ContactList_UpdateInsert",
    "Contact_RetrieveByEntityID",
    "Contact_RetrieveByEmailAddress",
    "Contact_RetrieveByExternalID",
    "Contact_DeleteByEntityID",
    "Contact_DeleteByEmailAddress",
]
NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "s": "http://www.w3.org/2001/XMLSchema",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
}


class Contract:
    """The facts of a WSDL that a consumer compiles against, as comparable values."""

    def __init__(self, path: Path) -> None:
        self.doc = etree.parse(str(path))
        schemas = self.doc.xpath("//s:schema", namespaces=NS)
        assert len(schemas) == 1
        self.schema = schemas[0]
        assert self.schema.get("targetNamespace") == NAMESPACE
        assert self.schema.get("elementFormDefault") == "qualified"

    def _resolve(self, prefixed: str, elem: etree._Element) -> str:
        prefix, _, local = prefixed.partition(":")
        return f"{{{elem.nsmap[prefix]}}}{local}"

    def sequence(self, node: etree._Element) -> list[tuple[str, ...]]:
        out = []
        for child in node.xpath("s:sequence/s:element", namespaces=NS):
            out.append(
                (
                    child.get("name"),
                    self._resolve(child.get("type"), child),
                    child.get("minOccurs", "1"),
                    child.get("maxOccurs", "1"),
                    child.get("nillable", "false"),
                )
            )
        return out

    def element(self, name: str) -> list[tuple[str, ...]]:
        [node] = self.schema.xpath(f"s:element[@name='{name}']", namespaces=NS)
        complex_types = node.xpath("s:complexType", namespaces=NS)
        assert complex_types, f"{name} has no inline complexType"
        return self.sequence(complex_types[0])

    def complex_type(self, name: str) -> list[tuple[str, ...]]:
        [node] = self.schema.xpath(f"s:complexType[@name='{name}']", namespaces=NS)
        return self.sequence(node)

    def reachable_types(self, operations: list[str]) -> set[str]:
        todo = []
        for op in operations:
            for name in (op, f"{op}Response"):
                todo.extend(t for _, t, *_ in self.element(name))
        seen: set[str] = set()
        while todo:
            qname = todo.pop()
            if not qname.startswith(f"{{{NAMESPACE}}}") or qname in seen:
                continue
            seen.add(qname)
            todo.extend(t for _, t, *_ in self.complex_type(qname.split("}")[1]))
        return seen

    def soap_actions(self, binding_ns: str) -> dict[str, tuple[str, str, str]]:
        prefix = "soap12" if binding_ns == NS["soap12"] else "soap"
        out = {}
        for binding in self.doc.xpath("//wsdl:binding", namespaces=NS):
            if not binding.xpath(f"{prefix}:binding", namespaces=NS):
                continue
            for op in binding.xpath("wsdl:operation", namespaces=NS):
                [soap_op] = op.xpath(f"{prefix}:operation", namespaces=NS)
                uses = op.xpath(
                    f"wsdl:input/{prefix}:body/@use | wsdl:output/{prefix}:body/@use", namespaces=NS
                )
                out[op.get("name")] = (
                    soap_op.get("soapAction"),
                    soap_op.get("style"),
                    ",".join(uses),
                )
        return out

    def messages(self, operation: str) -> tuple[str, str]:
        [op] = self.doc.xpath(f"//wsdl:portType/wsdl:operation[@name='{operation}']", namespaces=NS)
        parts = []
        for io in ("input", "output"):
            message = op.xpath(f"wsdl:{io}/@message", namespaces=NS)[0].split(":")[1]
            [part] = self.doc.xpath(f"//wsdl:message[@name='{message}']/wsdl:part", namespaces=NS)
            parts.append(part.get("element"))
        return parts[0], parts[1]


@pytest.fixture(scope="module")
def ours() -> Contract:
    return Contract(wsdl_path())


@pytest.fixture(scope="module")
def reference() -> Contract:
    return Contract(REFERENCE_WSDL)


@pytest.mark.parametrize("operation", CONTACT_OPERATIONS)
def test_request_and_response_elements_match(ours: Contract, reference: Contract, operation: str):
    assert ours.element(operation) == reference.element(operation)
    assert ours.element(f"{operation}Response") == reference.element(f"{operation}Response")
    assert ours.messages(operation) == reference.messages(operation)


def test_every_reachable_type_matches(ours: Contract, reference: Contract):
    types = reference.reachable_types(CONTACT_OPERATIONS)
    assert {t.split("}")[1] for t in types} >= {
        "ArrayOfContactRecord",
        "ContactRecord",
        "ArrayOfCrmForms",
        "CrmForms",
        "ArrayOfCrmFormFields",
        "CrmFormFields",
        "ArrayOfAddress",
        "Address",
        "ArrayOfPhoneNo",
        "PhoneNo",
        "ArrayOfRelationship",
        "Relationship",
    }
    assert ours.reachable_types(CONTACT_OPERATIONS) == types
    for qname in types:
        name = qname.split("}")[1]
        assert ours.complex_type(name) == reference.complex_type(name), name


@pytest.mark.parametrize("binding_ns", [NS["soap"], NS["soap12"]])
def test_soap_actions_and_styles_match(ours: Contract, reference: Contract, binding_ns: str):
    mine = ours.soap_actions(binding_ns)
    theirs = reference.soap_actions(binding_ns)
    assert set(mine) == set(CONTACT_OPERATIONS)
    for operation in CONTACT_OPERATIONS:
        assert mine[operation] == theirs[operation]
        assert mine[operation][0] == f"{NAMESPACE}/{operation}"


def test_service_and_ports_match(ours: Contract, reference: Contract):
    def ports(contract: Contract) -> list[tuple[str, str]]:
        return [
            (p.get("name"), p.get("binding"))
            for p in contract.doc.xpath("//wsdl:service/wsdl:port", namespaces=NS)
        ]

    assert ports(ours) == ports(reference)
    service = ours.doc.xpath("//wsdl:service/@name", namespaces=NS)
    assert service == ["CatalystCRMWebservice"]


def test_installed_package_finds_the_wsdl(tmp_path: Path):
    # Run from an unrelated directory so the checkout itself is not on sys.path.
    code = "from bridge.wsdl import wsdl_path; p = wsdl_path(); print(p.is_file(), p.name)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "CatalystCRMWebservice.wsdl"]
