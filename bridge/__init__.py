"""SoapBridge: the legacy SOAP CRM contract bridged to modern REST CRMs.

The public surface: the canonical model (:mod:`bridge.model`), the error tree
(:mod:`bridge.errors`), configuration (:mod:`bridge.config`) and connectors
(:mod:`bridge.connectors`).
"""

__version__ = "0.1.0"
