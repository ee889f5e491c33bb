"""Importing the kiosk on a machine with no GPIO, SPI or input devices touches none of them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HARDWARE_LIBRARIES = ("RPi", "gpiozero", "spidev", "evdev", "lgpio", "mfrc522")


def test_kiosk_hardware_imports_without_any_hardware_library():
    script = textwrap.dedent(
        f"""
        import sys
        blocked = {HARDWARE_LIBRARIES!r}
        for name in blocked:
            sys.modules[name] = None  # any import of these now raises ImportError
        import kiosk, kiosk.hardware
        import kiosk.hardware.base, kiosk.hardware.taps, kiosk.hardware.fake
        import kiosk.hardware.rc522, kiosk.hardware.usb, kiosk.hardware.feedback
        import kiosk.hardware.select, kiosk.hardware.readertest
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_importing_kiosk_hardware_loads_no_hardware_library():
    script = (
        "import sys, kiosk, kiosk.hardware, kiosk.hardware.rc522, kiosk.hardware.usb;"
        f"print(sorted(m for m in {HARDWARE_LIBRARIES!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
