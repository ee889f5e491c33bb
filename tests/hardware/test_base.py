"""UIDs come out in one form whatever read them; garbage is refused with a clear message."""

from __future__ import annotations

import pytest

from kiosk.hardware.base import (
    BadCardData,
    HardwareError,
    ReaderError,
    ReaderHealth,
    ReaderState,
    ReaderUnavailable,
    normalise_uid,
)


@pytest.mark.parametrize(
    "raw",
    [
        "04a23b1c",
        "04A23B1C",
        "04:a2:3b:1c",
        "04-A2-3B-1C",
        " 04 a2 3b 1c\n",
        b"\x04\xa2\x3b\x1c",
        bytearray(b"\x04\xa2\x3b\x1c"),
        [0x04, 0xA2, 0x3B, 0x1C],
        (4, 162, 59, 28),
    ],
)
def test_every_spelling_of_a_uid_normalises_to_upper_case_hex(raw):
    assert normalise_uid(raw) == "04A23B1C"


def test_seven_and_ten_byte_uids_are_kept_whole():
    assert normalise_uid("04:5e:21:3a:b1:6c:80") == "045E213AB16C80"
    assert normalise_uid(bytes(range(10))) == "00010203040506070809"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "empty"),
        ("04A23B1G", "0-9 and the letters A-F"),
        ("04A23B1", "odd number"),
        ("04A23B", "3 bytes long"),
        ("00" * 11, "11 bytes long"),
        ([1, 2, 3, 256], "0 to 255"),
        (["a", "b"], "0 to 255"),
        (5, "hex text"),
    ],
)
def test_garbage_is_refused_with_a_message_that_says_why(raw, words):
    with pytest.raises(BadCardData) as caught:
        normalise_uid(raw)
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ReaderError)


def test_error_family_has_one_root_and_unavailable_is_an_import_error():
    assert issubclass(ReaderError, HardwareError)
    assert issubclass(ReaderUnavailable, ReaderError)
    assert issubclass(ReaderUnavailable, ImportError)


def test_health_speaks_plain_words_to_a_volunteer():
    ok = ReaderHealth.ok("rc522")
    broken = ReaderHealth.not_answering("rc522", "RC522 not answering on the SPI bus", 1700.0)
    unplugged = ReaderHealth.not_answering("usb", "The USB card reader was unplugged.", 1700.0)

    assert ok.is_ok and ok.state is ReaderState.OK
    assert ok.plain_words == "Card reader working"
    assert not broken.is_ok
    assert broken.plain_words == "Card reader not answering — check its cable"
    assert unplugged.plain_words == "Card reader not answering — check it is plugged in"
    assert broken.last_error == "RC522 not answering on the SPI bus"
    assert broken.since == 1700.0
