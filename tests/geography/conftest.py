"""The county fixture (tests/geography/county.py)."""

from tests.geography.county import county  # noqa: F401 (a fixture)
