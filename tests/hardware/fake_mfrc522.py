"""A fake MFRC522 on a fake SPI bus, with a fake ISO 14443-A card in its field.

Emulates just enough of the chip for :mod:`kiosk.hardware.rc522` to hold its whole
conversation: the SPI framing (address byte, multi-byte reads), registers, the FIFO, the
interrupt and error registers, soft reset, and the Transceive command, which hands the frame
to the card model. The card model follows the ISO 14443-3 state machine (IDLE, READY per
cascade level, ACTIVE, HALT) and answers REQA/WUPA, anticollision, SELECT and HLTA.

Faults to inject: no card, a corrupt BCC, dropped answers, two cards at once, a chip that has
lost its settings, a chip whose commands never finish, and a bus where nothing answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.hardware.rc522 import (
    CASCADE_TAG,
    PICC_HLTA,
    PICC_REQA,
    PICC_SELECT,
    PICC_WUPA,
    Cmd,
    Reg,
    block_check_character,
    crc_a,
)

IDLE, HALT, ACTIVE = "idle", "halt", "active"


def ready(level: int) -> str:
    return f"ready{level}"


@dataclass
class FakeCard:
    """An ISO 14443-A card: its UID and its final SAK (0x08 MIFARE Classic 1K)."""

    uid: bytes
    sak: int = 0x08
    corrupt_bcc: bool = False
    state: str = IDLE
    frames_seen: list[bytes] = field(default_factory=list)

    @property
    def levels(self) -> list[bytes]:
        u = self.uid
        if len(u) == 4:
            return [u]
        if len(u) == 7:
            return [bytes([CASCADE_TAG]) + u[:3], u[3:]]
        if len(u) == 10:
            return [bytes([CASCADE_TAG]) + u[:3], bytes([CASCADE_TAG]) + u[3:6], u[6:]]
        raise ValueError("a card UID is 4, 7 or 10 bytes")

    @property
    def atqa(self) -> bytes:
        return bytes([{4: 0x04, 7: 0x44, 10: 0x84}[len(self.uid)], 0x00])

    def answer(self, frame: bytes, tx_last_bits: int) -> tuple[bytes, int] | None:
        """The card's answer (bytes, valid bits in the last byte; 0 = all 8) or None."""
        self.frames_seen.append(frame)
        if tx_last_bits == 7 and len(frame) == 1:
            if frame[0] == PICC_WUPA and self.state in (IDLE, HALT):
                self.state = ready(1)
                return self.atqa, 0
            if frame[0] == PICC_REQA and self.state == IDLE:
                self.state = ready(1)
                return self.atqa, 0
            return self._confused()
        for level, select in enumerate(PICC_SELECT, start=1):
            if self.state != ready(level) or not frame or frame[0] != select:
                continue
            part = self.levels[level - 1]
            bcc = block_check_character(part)
            if frame == bytes([select, 0x20]):
                if self.corrupt_bcc:
                    bcc ^= 0x5A
                return part + bytes([bcc]), 0
            body = bytes([select, 0x70]) + part + bytes([bcc])
            if frame == body + crc_a(body):
                last = level == len(self.levels)
                sak = self.sak if last else 0x04
                self.state = ACTIVE if last else ready(level + 1)
                return bytes([sak]) + crc_a([sak]), 0
            return self._confused()
        if self.state == ACTIVE and frame == bytes([PICC_HLTA, 0x00]) + crc_a([PICC_HLTA, 0]):
            self.state = HALT
            return None
        return self._confused()

    def _confused(self) -> None:
        # ISO 14443-3: an unexpected frame sends the card back to IDLE (HALT stays HALT).
        if self.state != HALT:
            self.state = IDLE
        return None


class FakeMFRC522:
    """The chip. ``transfer`` has the signature of ``spidev.SpiDev.xfer2``."""

    VERSION = 0x92

    def __init__(self, card: FakeCard | None = None) -> None:
        self.card = card
        self.silent_bus: int | None = None  # 0x00 or 0xFF: every byte reads as this
        self.stuck = False  # Transceive never finishes (no interrupt ever set)
        self.dropped_answers = 0  # the next n frames get no answer (RF glitch)
        self.second_card = False  # a collision during anticollision
        self.deaf = False  # MOSI broken: reads work, writes are lost
        self.transfers = 0
        self.soft_resets = 0
        self.frames: list[bytes] = []
        self._power_on()

    # -- the card in the field ---------------------------------------------------------------
    def place(self, uid: bytes | str, **kwargs: object) -> FakeCard:
        self.card = FakeCard(bytes.fromhex(uid) if isinstance(uid, str) else uid, **kwargs)
        return self.card

    def take_away(self) -> None:
        self.card = None

    # -- the chip ----------------------------------------------------------------------------
    def _power_on(self) -> None:
        self.regs = [0] * 64
        self.regs[Reg.COMMAND] = 0x20
        self.regs[Reg.VERSION] = self.VERSION
        self.regs[Reg.TX_CONTROL] = 0x80
        self.fifo: list[int] = []
        self.command = Cmd.IDLE

    def lose_settings(self) -> None:
        """As after a power dip: registers back to their reset values, antenna off."""
        self._power_on()

    def transfer(self, data: list[int]) -> list[int]:
        self.transfers += 1
        if self.silent_bus is not None:
            return [self.silent_bus] * len(data)
        address = data[0]
        reg = (address >> 1) & 0x3F
        if address & 0x80:
            out = [0]
            for next_address in data[1:]:
                out.append(self._read(reg))
                reg = (next_address >> 1) & 0x3F
            return out
        if not self.deaf:
            for value in data[1:]:
                self._write(reg, value)
        return [0] * len(data)

    def _read(self, reg: int) -> int:
        if reg == Reg.FIFO_DATA:
            return self.fifo.pop(0) if self.fifo else 0
        if reg == Reg.FIFO_LEVEL:
            return len(self.fifo)
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        if reg == Reg.FIFO_DATA:
            self.fifo.append(value)
        elif reg == Reg.FIFO_LEVEL:
            if value & 0x80:
                self.fifo.clear()
        elif reg == Reg.COM_IRQ:
            if value & 0x80:
                self.regs[reg] |= value & 0x7F
            else:
                self.regs[reg] &= ~value & 0x7F
        elif reg == Reg.COMMAND:
            command = value & 0x0F
            if command == Cmd.SOFT_RESET:
                self.soft_resets += 1
                self._power_on()
            else:
                self.command = command
                self.regs[reg] = value
        elif reg == Reg.VERSION:
            pass  # read-only
        else:
            self.regs[reg] = value
            if reg == Reg.BIT_FRAMING and value & 0x80 and self.command == Cmd.TRANSCEIVE:
                self._transceive(value & 0x07)

    def _transceive(self, tx_last_bits: int) -> None:
        frame = bytes(self.fifo)
        self.fifo.clear()
        self.frames.append(frame)
        if self.stuck:
            return
        self.regs[Reg.ERROR] = 0
        self.regs[Reg.COM_IRQ] |= 0x40  # TxIRq
        antenna_on = self.regs[Reg.TX_CONTROL] & 0x03 == 0x03
        answer = None
        if antenna_on and self.card is not None:
            answer = self.card.answer(frame, tx_last_bits)
        if answer is not None and self.dropped_answers:
            self.dropped_answers -= 1
            answer = None
        if answer is None:
            self.regs[Reg.COM_IRQ] |= 0x01  # TimerIRq: nobody answered within the timeout
            return
        data, last_bits = answer
        is_anticollision = len(frame) == 2 and frame[0] in PICC_SELECT and frame[1] == 0x20
        if self.second_card and is_anticollision:
            self.regs[Reg.ERROR] |= 0x08  # CollErr
            self.regs[Reg.COM_IRQ] |= 0x02  # ErrIRq
        self.fifo = list(data)
        self.regs[Reg.CONTROL] = last_bits
        self.regs[Reg.COM_IRQ] |= 0x20  # RxIRq
