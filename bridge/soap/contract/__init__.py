"""The legacy SOAP contract: the one home of what every side of the legacy wire agrees on.

- :mod:`bridge.soap.contract.record`: the ``ContactRecord`` (fields, types, sequence order)
  and its mapping to and from the canonical ``Contact``;
- :mod:`bridge.soap.contract.wire`: the envelope and fault bytes of the ASMX service and the
  XML guard in front of any parsing;
- the WSDL itself (package data in :mod:`bridge.wsdl`), re-exported here.

The legacy connector, the facade and the legacy emulator all build on this package, so
the emulator needs nothing else of the bridge, and a change to the contract is made once.
"""

from __future__ import annotations

from bridge.wsdl import NAMESPACE, WSDL_NAME, wsdl_bytes, wsdl_path

__all__ = ["NAMESPACE", "WSDL_NAME", "wsdl_bytes", "wsdl_path"]
