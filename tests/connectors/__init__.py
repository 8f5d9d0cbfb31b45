"""Connector tests: the battery every connector passes, and per-kind tests."""
