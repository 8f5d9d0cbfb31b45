"""spyne models named exactly as the legacy contract names its types and elements.

spyne's defaults differ from the contract (``Array(T)`` becomes ``TArray``, ``Integer`` is
``xs:integer``), so every name is set here on purpose: ``ArrayOfContactRecord`` with items
``ContactRecord``, ``Integer32`` for ``xs:int``, fields in the contract's sequence order
(built from :data:`bridge.soap.contract.record.STRUCTS`, the record's one home).
Input is lenient (spyne runs without a validator): a missing value-type element arrives as
None and the service supplies the contract's default.
"""

from __future__ import annotations

from typing import Any

from spyne import Array, Boolean, ComplexModel, DateTime, Integer32, Unicode

from bridge.soap.contract import NAMESPACE
from bridge.soap.contract.record import BOOLEAN, DATETIME, INT, STRING, STRUCTS, Fields


class _Legacy(ComplexModel):
    __namespace__ = NAMESPACE


def _array_of(item: Any) -> Any:
    return Array(item).customize(type_name=f"ArrayOf{item.get_type_name()}")


# The contract's element kinds as spyne types (``Integer32`` is ``xs:int``).
_SCALARS: dict[str, Any] = {STRING: Unicode, INT: Integer32, BOOLEAN: Boolean, DATETIME: DateTime}


def _build(structs: dict[str, Fields]) -> dict[str, Any]:
    """One spyne model per contract struct, named as the contract names it.

    The contract lists inner structs before the ones that hold them, so every array's item
    model exists by the time its holder is built.
    """
    models: dict[str, Any] = {}
    for name, fields in structs.items():
        type_info = [
            (field, _SCALARS[kind] if kind in _SCALARS else _array_of(models[kind]))
            for field, kind in fields
        ]
        models[name] = type(name, (_Legacy,), {"_type_info": type_info})
    return models


MODELS = _build(STRUCTS)
Relationship = MODELS["Relationship"]
Address = MODELS["Address"]
PhoneNo = MODELS["PhoneNo"]
CrmFormFields = MODELS["CrmFormFields"]
CrmForms = MODELS["CrmForms"]
ContactRecord = MODELS["ContactRecord"]
ArrayOfContactRecord = _array_of(ContactRecord)

# {array element: item model}, for converting between models and record dicts.
_ITEM_TYPES: dict[str, Any] = {
    field: MODELS[kind] for fields in STRUCTS.values() for field, kind in fields if kind in MODELS
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
