"""The zeep side of the project: client factory, transport, fault mapping, fast decoding.

Nothing above this package sees zeep objects: callers get plain dicts and lists from
:mod:`bridge.soap.decode` and errors from :mod:`bridge.errors`.
"""

from bridge.soap.client import SoapClientFactory, build_soap_client
from bridge.soap.faults import map_soap_errors

__all__ = ["SoapClientFactory", "build_soap_client", "map_soap_errors"]
