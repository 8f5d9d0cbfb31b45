"""spyne models named exactly as the legacy contract names its types and elements.

spyne's defaults differ from the contract (``Array(T)`` becomes ``TArray``, ``Integer`` is
``xs:integer``), so every name is set here on purpose: ``ArrayOfContactRecord`` with items
``ContactRecord``, ``Integer32`` for ``xs:int``, fields in the contract's sequence order.
Input is lenient (spyne runs without a validator): a missing value-type element arrives as
None and the service supplies the contract's default.
"""

from __future__ import annotations

from typing import Any

from spyne import Array, Boolean, ComplexModel, DateTime, Integer32, Unicode

from bridge.wsdl import NAMESPACE


class _Legacy(ComplexModel):
    __namespace__ = NAMESPACE


def _array_of(item: Any) -> Any:
    return Array(item).customize(type_name=f"ArrayOf{item.get_type_name()}")


class Relationship(_Legacy):
    _type_info = [("entityId", Integer32), ("entityType", Integer32), ("name", Unicode)]


class Address(_Legacy):
    _type_info = [
        ("addressTypeID", Integer32),
        ("addressLine1", Unicode),
        ("addressLine2", Unicode),
        ("city", Unicode),
        ("zipcode", Unicode),
        ("state", Unicode),
        ("countryCode", Unicode),
    ]


class PhoneNo(_Legacy):
    _type_info = [("phoneNoTypeID", Integer32), ("phoneNo", Unicode)]


class CrmFormFields(_Legacy):
    _type_info = [
        ("fieldId", Integer32),
        ("fieldTypeId", Integer32),
        ("fieldName", Unicode),
        ("fieldValue", Unicode),
    ]


ArrayOfCrmFormFields = _array_of(CrmFormFields)


class CrmForms(_Legacy):
    _type_info = [
        ("formId", Integer32),
        ("formName", Unicode),
        ("crmFormFields", ArrayOfCrmFormFields),
    ]


ArrayOfRelationship = _array_of(Relationship)
ArrayOfAddress = _array_of(Address)
ArrayOfPhoneNo = _array_of(PhoneNo)
ArrayOfCrmForms = _array_of(CrmForms)


class ContactRecord(_Legacy):
    _type_info = [
        ("entityId", Integer32),
        ("externalId", Unicode),
        ("emailAddress", Unicode),
        ("contactTitle", Unicode),
        ("deleted", Boolean),
        ("fullName", Unicode),
        ("firstName", Unicode),
        ("lastName", Unicode),
        ("username", Unicode),
        ("password", Unicode),
        ("dateOfBirth", DateTime),
        ("createDate", DateTime),
        ("lastUpdateDate", DateTime),
        ("customerType", Unicode),
        ("industryType", Unicode),
        ("leadSourceType", Unicode),
        ("ratingType", Unicode),
        ("relationships", ArrayOfRelationship),
        ("addresses", ArrayOfAddress),
        ("phoneNos", ArrayOfPhoneNo),
        ("crmForms", ArrayOfCrmForms),
        ("MasterOptIn", Boolean),
    ]


ArrayOfContactRecord = _array_of(ContactRecord)

_ITEM_TYPES: dict[str, Any] = {
    "relationships": Relationship,
    "addresses": Address,
    "phoneNos": PhoneNo,
    "crmForms": CrmForms,
    "crmFormFields": CrmFormFields,
}


def to_dict(obj: Any) -> dict[str, Any]:
    """A spyne model instance as a plain dict keyed by element name (arrays as lists).

    Only elements the client sent are present, which is what lenient reading wants.
    """
    out: dict[str, Any] = {}
    for name in type(obj)._type_info:
        value = getattr(obj, name, None)
        if value is None:
            continue
        if name in _ITEM_TYPES:
            out[name] = [to_dict(item) for item in value if item is not None]
        else:
            out[name] = value
    return out


def from_dict(record: dict[str, Any], cls: Any = ContactRecord) -> Any:
    """A plain record dict as a spyne model instance (for spyne's own serializer)."""
    values: dict[str, Any] = {}
    for name in cls._type_info:
        value = record.get(name)
        if name in _ITEM_TYPES and value is not None:
            values[name] = [from_dict(item, _ITEM_TYPES[name]) for item in value]
        else:
            values[name] = value
    return cls(**values)
