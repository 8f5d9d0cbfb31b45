"""The legacy contract's WSDL, shipped as package data.

The top-level ``wsdl/`` folder of the repository is a link to this package, so the file is
easy to find and hand to a consumer, and installed code finds it with :func:`wsdl_path`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

WSDL_NAME = "CatalystCRMWebservice.wsdl"
NAMESPACE = "http://tempuri.org/CatalystDeveloperService/CatalystCRMWebservice"


def wsdl_path() -> Path:
    """The installed WSDL file's path (zeep and spyne want a real file)."""
    return Path(str(resources.files(__name__).joinpath(WSDL_NAME)))


def wsdl_bytes() -> bytes:
    return resources.files(__name__).joinpath(WSDL_NAME).read_bytes()
