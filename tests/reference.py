"""Paths of the reference fixtures the tests carry (see tests/fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE_WSDL = FIXTURES / "reference.wsdl"
