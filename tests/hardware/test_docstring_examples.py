"""The examples in the hardware modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kiosk.hardware.base",
    "kiosk.hardware.taps",
    "kiosk.hardware.fake",
    "kiosk.hardware.rc522",
    "kiosk.hardware.usb",
    "kiosk.hardware.feedback",
    "kiosk.hardware.select",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_are_true(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
