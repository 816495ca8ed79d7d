"""SSH wire encoding (RFC 4251 ``string``/``uint32``/``mpint``) used by SSHSIG."""

from __future__ import annotations

import struct


def pack_string(data: bytes) -> bytes:
    """``string``: uint32 length then the bytes."""
    return struct.pack(">I", len(data)) + data


def pack_mpint(value: int) -> bytes:
    """``mpint``: a two's-complement big-endian integer as a ``string`` (non-negative here)."""
    if value == 0:
        return pack_string(b"")
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big")
    return pack_string(raw)


class Reader:
    """Sequential reader over SSH wire data; raises ``ValueError`` on truncated input."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, size: int) -> bytes:
        """The next ``size`` raw bytes."""
        end = self._pos + size
        if end > len(self._data):
            raise ValueError("truncated data")
        chunk = bytes(self._data[self._pos : end])
        self._pos = end
        return chunk

    def uint32(self) -> int:
        """The next ``uint32``."""
        value: int = struct.unpack(">I", self.read(4))[0]
        return value

    def string(self) -> bytes:
        """The next ``string``."""
        return self.read(self.uint32())

    def mpint(self) -> int:
        """The next ``mpint``."""
        return int.from_bytes(self.string(), "big", signed=True)

    def at_end(self) -> bool:
        """True when every byte has been read."""
        return self._pos == len(self._data)
