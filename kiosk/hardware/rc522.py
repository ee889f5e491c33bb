"""RC522 (NXP MFRC522) card reader on the Raspberry Pi's SPI bus.

Why our own small protocol layer rather than a PyPI library: see
``firmware-notes/rc522-library-choice.md``. In short, the libraries that work on a Pi 5 (they
use gpiozero/lgpio, not RPi.GPIO) open ``spidev`` inside their constructors, so their SPI
conversation cannot be tested against a fake device, and they share a wait loop that ignores
the chip's timer (a busy spin when no card is there) and read only the first cascade level of a
7-byte UID. The part we need is small: wake a card, run the anticollision/select cascade, check
the UID's check bytes, put the card to sleep.

Layers, each testable on its own:

- :class:`MFRC522`: the chip. Register reads/writes and "transceive a frame" over an injected
  ``transfer(bytes_out) -> bytes_in`` function (``spidev.SpiDev.xfer2`` on the Pi, a fake chip
  in tests). Waits are bounded: the chip's own timer ends a request after 25 ms with no card,
  and a chip that never finishes is reported as not answering.
- :class:`RC522Reader`: the :class:`~kiosk.hardware.base.CardReader`. One poll sends WUPA,
  runs anticollision + SELECT for cascade levels 1-3 (4-, 7- and 10-byte UIDs), verifies each
  level's BCC check byte and the SAK's CRC, then sends HLTA so a held card answers the next
  poll's WUPA the same way (no alternating success/failure).
- :func:`open_rc522`: builds the real thing from a ``ReaderConfig``, importing ``spidev`` and
  ``gpiozero`` only then.

A card-level problem (card pulled away mid-read, BCC mismatch, two cards at once) makes a poll
return ``None``: the tap debouncer treats it as a missed read. A chip-level problem (nothing on
the bus, the chip never finishing a command) raises :class:`ChipNotAnswering`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from kiosk.hardware.base import ReaderBase, ReaderError, ReaderUnavailable, normalise_uid

if TYPE_CHECKING:
    from kiosk.hardware.select import ReaderConfig

log = logging.getLogger(__name__)

#: ``transfer(bytes_out) -> bytes_in``: one full-duplex SPI exchange with chip select held
#: low for its whole length (``spidev.SpiDev.xfer2``).
Transfer = Callable[[list[int]], Sequence[int]]


class Reg(IntEnum):
    """MFRC522 registers used here (datasheet section 9)."""

    COMMAND = 0x01
    COM_IEN = 0x02
    COM_IRQ = 0x04
    DIV_IRQ = 0x05
    ERROR = 0x06
    STATUS2 = 0x08
    FIFO_DATA = 0x09
    FIFO_LEVEL = 0x0A
    CONTROL = 0x0C
    BIT_FRAMING = 0x0D
    COLL = 0x0E
    MODE = 0x11
    TX_MODE = 0x12
    RX_MODE = 0x13
    TX_CONTROL = 0x14
    TX_ASK = 0x15
    T_MODE = 0x2A
    T_PRESCALER = 0x2B
    T_RELOAD_H = 0x2C
    T_RELOAD_L = 0x2D
    VERSION = 0x37


class Cmd(IntEnum):
    """MFRC522 commands (CommandReg)."""

    IDLE = 0x00
    TRANSCEIVE = 0x0C
    SOFT_RESET = 0x0F


# CommandReg
POWER_DOWN = 0x10
# ComIrqReg bits
IRQ_SET1 = 0x80
IRQ_TX = 0x40
IRQ_RX = 0x20
IRQ_IDLE = 0x10
IRQ_ERR = 0x02
IRQ_TIMER = 0x01
IRQ_ALL = 0x7F
# ErrorReg bits
ERR_WRITE = 0x80
ERR_TEMP = 0x40
ERR_BUFFER_OVERFLOW = 0x10
ERR_COLLISION = 0x08
ERR_CRC = 0x04
ERR_PARITY = 0x02
ERR_PROTOCOL = 0x01
# BitFramingReg / FIFOLevelReg / TxControlReg
START_SEND = 0x80
FLUSH_FIFO = 0x80
ANTENNA_ON = 0x03

# ISO/IEC 14443-3 type A commands
PICC_REQA = 0x26
PICC_WUPA = 0x52
PICC_SELECT = (0x93, 0x95, 0x97)  # cascade levels 1, 2, 3
PICC_HLTA = 0x50
NVB_ANTICOLLISION = 0x20  # "I send only SEL and NVB": the card answers with 4 UID bytes + BCC
NVB_SELECT = 0x70  # "I send all 7 bytes": SEL, NVB, 4 UID bytes, BCC (+ CRC_A)
CASCADE_TAG = 0x88
SAK_UID_INCOMPLETE = 0x04
SHORT_FRAME_BITS = 7  # REQA/WUPA are 7-bit short frames

#: Chip timer: 13.56 MHz / (2 x 169 + 1) = 40 kHz, i.e. 25 us ticks; 1000 ticks = 25 ms.
#: The timer starts when a frame has been sent (TAuto) and ends the wait for a card's answer.
TIMER_PRESCALER = 169
TIMER_RELOAD = 1000
T_MODE_AUTO = 0x80
#: Force 100% ASK modulation (type A), CRC preset 6363h for ISO 14443-3 (ModeReg).
TX_ASK_FORCE_100 = 0x40
MODE_CRC_6363 = 0x3D

#: A request the chip has not finished after this long means the chip is not working
#: (its own timer gives up on a silent card after 25 ms).
COMMAND_DEADLINE = 0.1
#: Pause between reads of the interrupt register while waiting (no busy spin).
IRQ_POLL_PAUSE = 0.001
#: After a hard reset (RST pin) the chip's oscillator needs time to start.
RESET_SETTLE = 0.05

#: Version register values when nothing answers on the bus (MISO stuck low or high).
SILENT_BUS_VALUES = (0x00, 0xFF)
#: Version register values of chips known to work (0x88 and 0x12 are common clones).
KNOWN_VERSIONS = {0x88: "FM17522 clone", 0x90: "v0.0", 0x91: "v1.0", 0x92: "v2.0", 0x12: "clone"}


def crc_a(data: Iterable[int]) -> bytes:
    """ISO/IEC 14443-3 CRC_A of *data*, as the two bytes sent after it (low byte first).

    >>> crc_a([0x50, 0x00]).hex()   # HLTA is sent as 50 00 57 CD
    '57cd'
    """
    crc = 0x6363
    for byte in data:
        byte ^= crc & 0xFF
        byte = (byte ^ (byte << 4)) & 0xFF
        crc = (crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)
    return bytes((crc & 0xFF, (crc >> 8) & 0xFF))


def block_check_character(uid_part: Iterable[int]) -> int:
    """BCC: the XOR of the four UID bytes a card sends at one cascade level."""
    bcc = 0
    for byte in uid_part:
        bcc ^= byte
    return bcc


class ChipNotAnswering(ReaderError):
    """The RC522 chip is not answering on the SPI bus, or never finishes a command."""


class CardGlitch(Exception):
    """A card-level problem during one poll: counts as a missed read, not a broken reader."""


class Frame(NamedTuple):
    """What a card answered: the bytes and how many bits of them are valid."""

    data: bytes
    bits: int


class ResetLine(Protocol):
    """The RC522's RST (NRSTPD) pin: a gpiozero ``DigitalOutputDevice`` on the Pi."""

    def on(self) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None: ...


class MFRC522:
    """The MFRC522 chip over an SPI ``transfer`` function.

    SPI framing (datasheet 8.1.2): the address byte is ``(reg << 1)`` for a write and
    ``0x80 | (reg << 1)`` for a read; a read of n registers sends n addresses and a 0, and
    the chip answers each address in the byte after it.
    """

    def __init__(
        self,
        transfer: Transfer,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transfer = transfer
        self._clock = clock
        self._sleep = sleep

    def _xfer(self, data: list[int]) -> Sequence[int]:
        try:
            answer = self._transfer(data)
        except OSError as exc:
            raise ChipNotAnswering(f"RC522: SPI transfer failed: {exc}") from exc
        if len(answer) != len(data):
            raise ChipNotAnswering(
                f"RC522: SPI transfer of {len(data)} bytes returned {len(answer)}"
            )
        return answer

    def read(self, reg: int) -> int:
        return self._xfer([0x80 | ((reg << 1) & 0x7E), 0])[1]

    def read_many(self, reg: int, count: int) -> bytes:
        if count <= 0:
            return b""
        address = 0x80 | ((reg << 1) & 0x7E)
        return bytes(self._xfer([address] * count + [0])[1:])

    def write(self, reg: int, *values: int) -> None:
        self._xfer([(reg << 1) & 0x7E, *values])

    def set_bits(self, reg: int, mask: int) -> None:
        self.write(reg, self.read(reg) | mask)

    def version(self) -> int:
        return self.read(Reg.VERSION)

    def check_answering(self) -> int:
        """Read the version register; raise :class:`ChipNotAnswering` if the bus is silent."""
        version = self.version()
        if version in SILENT_BUS_VALUES:
            raise ChipNotAnswering(
                f"RC522 not answering on the SPI bus (version register reads 0x{version:02X}):"
                " check its 3.3 V, GND, MISO, MOSI, SCK and SDA wires"
            )
        return version

    def soft_reset(self) -> None:
        self.write(Reg.COMMAND, Cmd.SOFT_RESET)
        deadline = self._clock() + COMMAND_DEADLINE
        self._sleep(IRQ_POLL_PAUSE)
        while self.read(Reg.COMMAND) & POWER_DOWN:
            if self._clock() > deadline:
                raise ChipNotAnswering("RC522 did not come back from a soft reset")
            self._sleep(IRQ_POLL_PAUSE)

    def configure(self) -> None:
        """Timer, modulation and CRC settings for ISO 14443 type A, antenna on."""
        self.write(Reg.T_MODE, T_MODE_AUTO | ((TIMER_PRESCALER >> 8) & 0x0F))
        self.write(Reg.T_PRESCALER, TIMER_PRESCALER & 0xFF)
        self.write(Reg.T_RELOAD_H, (TIMER_RELOAD >> 8) & 0xFF)
        self.write(Reg.T_RELOAD_L, TIMER_RELOAD & 0xFF)
        self.write(Reg.TX_ASK, TX_ASK_FORCE_100)
        self.write(Reg.MODE, MODE_CRC_6363)
        self.write(Reg.TX_MODE, 0x00)  # CRC is computed in software (crc_a)
        self.write(Reg.RX_MODE, 0x00)
        self.set_bits(Reg.TX_CONTROL, ANTENNA_ON)
        if self.read(Reg.T_MODE) != T_MODE_AUTO | ((TIMER_PRESCALER >> 8) & 0x0F):
            raise ChipNotAnswering(
                "RC522 answers but ignores settings written to it: check the MOSI wire"
            )

    def antenna_on(self) -> bool:
        return self.read(Reg.TX_CONTROL) & ANTENNA_ON == ANTENNA_ON

    def transceive(self, data: Sequence[int], tx_last_bits: int = 0) -> Frame | None:
        """Send a frame to the card and return its answer, or ``None`` if no card answered.

        Raises :class:`CardGlitch` for a garbled answer (parity, framing, collision) and
        :class:`ChipNotAnswering` if the chip does not finish within ``COMMAND_DEADLINE``.
        """
        self.write(Reg.COMMAND, Cmd.IDLE)
        self.write(Reg.COM_IRQ, IRQ_ALL)  # clear every interrupt flag
        self.write(Reg.FIFO_LEVEL, FLUSH_FIFO)
        self.write(Reg.FIFO_DATA, *data)
        self.write(Reg.BIT_FRAMING, tx_last_bits & 0x07)
        self.write(Reg.COMMAND, Cmd.TRANSCEIVE)
        self.write(Reg.BIT_FRAMING, START_SEND | (tx_last_bits & 0x07))
        deadline = self._clock() + COMMAND_DEADLINE
        while True:
            irq = self.read(Reg.COM_IRQ)
            if irq & (IRQ_RX | IRQ_IDLE):
                break
            if irq & IRQ_TIMER:
                self.write(Reg.COMMAND, Cmd.IDLE)
                return None  # the chip's 25 ms timer ran out: no card answered
            if self._clock() > deadline:
                self.write(Reg.COMMAND, Cmd.IDLE)
                raise ChipNotAnswering(
                    f"RC522 did not finish a card request within {COMMAND_DEADLINE:g} s"
                )
            self._sleep(IRQ_POLL_PAUSE)
        self.write(Reg.BIT_FRAMING, 0)
        self.write(Reg.COMMAND, Cmd.IDLE)
        error = self.read(Reg.ERROR)
        if error & ERR_TEMP:
            raise ChipNotAnswering("RC522 is overheating and has switched its antenna off")
        if error & ERR_COLLISION:
            raise CardGlitch("two or more cards answered at once")
        if error & (ERR_BUFFER_OVERFLOW | ERR_PARITY | ERR_PROTOCOL):
            raise CardGlitch(f"garbled answer from the card (ErrorReg 0x{error:02X})")
        count = self.read(Reg.FIFO_LEVEL) & 0x7F
        last_bits = self.read(Reg.CONTROL) & 0x07
        received = self.read_many(Reg.FIFO_DATA, count)
        bits = (count - 1) * 8 + last_bits if last_bits and count else count * 8
        return Frame(received, bits)


class RC522Reader(ReaderBase):
    """A :class:`~kiosk.hardware.base.CardReader` for an RC522 module.

    Build it with :func:`open_rc522` on the Pi; in tests give it a fake ``transfer``::

        reader = RC522Reader(fake_chip.transfer, sleep=lambda s: None)
        reader.read_uid(0.1)  # -> "04A23B1C" with a card on the fake chip, else None

    One poll takes one WUPA (up to 25 ms with no card), so *timeout* is only an upper bound.
    """

    name = "rc522"

    def __init__(
        self,
        transfer: Transfer,
        *,
        reset_line: ResetLine | None = None,
        on_close: Iterable[Callable[[], None]] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.chip = MFRC522(transfer, clock=clock, sleep=sleep)
        self._reset_line = reset_line
        self._on_close = list(on_close)
        self._sleep = sleep
        self._ready = False
        self.version: int | None = None
        #: Polls that ended in a card-level glitch (BCC mismatch, collision, card pulled).
        self.glitches = 0

    def reset(self) -> None:
        """Hard-reset the chip (RST pin, when wired), soft-reset it, check it, configure it."""
        self._check_open()
        self._ready = False
        if self._reset_line is not None:
            self._reset_line.off()
            self._sleep(IRQ_POLL_PAUSE)
            self._reset_line.on()
            self._sleep(RESET_SETTLE)
        self.chip.check_answering()
        self.chip.soft_reset()
        version = self.chip.check_answering()
        if version not in KNOWN_VERSIONS and version != self.version:
            log.warning("RC522 reports an unknown version 0x%02X; carrying on", version)
        self.version = version
        self.chip.configure()
        self._ready = True
        log.info("RC522 ready (version 0x%02X %s)", version, KNOWN_VERSIONS.get(version, ""))

    def read_uid(self, timeout: float) -> str | None:
        self._check_open()
        if not self._ready:
            self.reset()
        self.chip.check_answering()
        if not self.chip.antenna_on():
            self._ready = False
            raise ChipNotAnswering("RC522 lost its settings (a power dip?); it will be reset")
        try:
            uid = self._read_card()
        except CardGlitch as exc:
            self.glitches += 1
            log.debug("RC522: missed read: %s", exc)
            return None
        return None if uid is None else normalise_uid(uid)

    def _read_card(self) -> bytes | None:
        atqa = self.chip.transceive([PICC_WUPA], tx_last_bits=SHORT_FRAME_BITS)
        if atqa is None:
            return None
        if atqa.bits != 16:
            raise CardGlitch(f"ATQA of {atqa.bits} bits instead of 16")
        uid = bytearray()
        for level, select in enumerate(PICC_SELECT, start=1):
            answer = self.chip.transceive([select, NVB_ANTICOLLISION])
            if answer is None:
                raise CardGlitch(f"card went quiet at cascade level {level}")
            if answer.bits != 40 or len(answer.data) != 5:
                raise CardGlitch(f"anticollision answer of {answer.bits} bits instead of 40")
            part, bcc = answer.data[:4], answer.data[4]
            if block_check_character(part) != bcc:
                raise CardGlitch(
                    f"UID check byte (BCC) wrong at cascade level {level}: "
                    f"{part.hex().upper()} gives 0x{block_check_character(part):02X}, "
                    f"card sent 0x{bcc:02X}"
                )
            frame = [select, NVB_SELECT, *part, bcc]
            sak = self.chip.transceive([*frame, *crc_a(frame)])
            if sak is None:
                raise CardGlitch(f"no SAK at cascade level {level}")
            if len(sak.data) != 3 or crc_a(sak.data[:1]) != sak.data[1:]:
                raise CardGlitch(f"bad SAK at cascade level {level}: {sak.data.hex()}")
            if sak.data[0] & SAK_UID_INCOMPLETE:
                if part[0] != CASCADE_TAG:
                    raise CardGlitch("card says its UID goes on but sent no cascade tag")
                uid += part[1:]
                continue
            uid += part
            break
        else:
            raise CardGlitch("card UID longer than three cascade levels")
        self._halt()
        return bytes(uid)

    def _halt(self) -> None:
        """HLTA: the card sleeps until the next poll's WUPA wakes it (it does not answer)."""
        halt = [PICC_HLTA, 0x00]
        # The UID is already read: a garbled answer to HLTA does not matter.
        with contextlib.suppress(CardGlitch):
            self.chip.transceive([*halt, *crc_a(halt)])

    def _release(self) -> None:
        for close in self._on_close:
            try:
                close()
            except Exception:  # closing must not raise
                log.exception("RC522: error while closing")


def open_rc522(
    config: ReaderConfig,
    *,
    pin_factory: object | None = None,
    device_exists: Callable[[str], bool] = os.path.exists,
) -> RC522Reader:
    """Open the RC522 described by *config* on this Pi's SPI bus.

    Imports ``spidev`` and ``gpiozero`` here and only here. Raises
    :class:`~kiosk.hardware.base.ReaderUnavailable` with a plain message when the library is
    missing, SPI is switched off, or the reset pin cannot be had. The chip itself is first
    spoken to on the first poll (or :meth:`RC522Reader.reset`), so a reader that is not
    answering yet is reported and retried by the reader loop rather than stopping the kiosk.
    """
    try:
        import spidev  # lazy on purpose: laptops and CI have no SPI
    except ImportError as exc:
        raise ReaderUnavailable(
            "The RC522 card reader needs the spidev library, which is not installed here. "
            "On the kiosk: pip install 'doorstep-kiosk[pi]'."
        ) from exc
    path = f"/dev/spidev{config.spi_bus}.{config.spi_device}"
    if not device_exists(path):
        raise ReaderUnavailable(
            f"{path} does not exist: SPI is switched off, or this is not a Raspberry Pi. "
            "Turn SPI on (sudo raspi-config, Interface Options, SPI; or dtparam=spi=on in "
            "/boot/firmware/config.txt) and reboot."
        )
    spi = spidev.SpiDev()
    try:
        spi.open(config.spi_bus, config.spi_device)
        spi.max_speed_hz = config.spi_speed_hz
        spi.mode = 0
    except OSError as exc:
        spi.close()
        raise ReaderUnavailable(
            f"Cannot open {path}: {exc}. Is the kiosk's user in the 'spi' group?"
        ) from exc
    on_close: list[Callable[[], None]] = [spi.close]
    reset_line = None
    if config.reset_pin is not None:
        try:
            reset_line = _open_reset_line(config.reset_pin, pin_factory)
        except ReaderUnavailable:
            spi.close()
            raise
        on_close.insert(0, reset_line.close)

    def transfer(data: list[int]) -> Sequence[int]:
        return spi.xfer2(list(data))

    return RC522Reader(transfer, reset_line=reset_line, on_close=on_close)


def _open_reset_line(pin: int, pin_factory: object | None) -> ResetLine:
    try:
        from gpiozero import DigitalOutputDevice
        from gpiozero.exc import GPIOZeroError
    except ImportError as exc:
        raise ReaderUnavailable(
            "The RC522's reset pin needs the gpiozero library, which is not installed here. "
            "On the kiosk: pip install 'doorstep-kiosk[pi]'."
        ) from exc
    try:
        return DigitalOutputDevice(pin, initial_value=True, pin_factory=pin_factory)
    except (GPIOZeroError, ImportError, OSError) as exc:
        raise ReaderUnavailable(
            f"Cannot use GPIO{pin} for the RC522's reset pin: {exc}. On a Pi 5 gpiozero needs "
            "the lgpio library (pip install lgpio)."
        ) from exc
