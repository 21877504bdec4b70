"""MongoDB ObjectIds minted the way several independent writers would mint them.

An ObjectId is 12 bytes written as 24 lowercase hex characters: a 4-byte big-endian timestamp in epoch
seconds (when the document was written), a 5-byte random value chosen once per writer process, and a
3-byte big-endian counter per writer that starts at a random value. Ids of one writer grow with its
writes; ids of the same second written by different writers sort by the writers' random parts, not by
write order.
"""

from __future__ import annotations

import random
import re

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
COUNTER_MASK = 0xFFFFFF


def is_object_id(value: str) -> bool:
    """Whether ``value`` is 24 hexadecimal characters (either case)."""
    return bool(OBJECT_ID.match(value))


def object_id_seconds(value: str) -> int:
    """The epoch seconds embedded in an ObjectId."""
    return int(value[:8], 16)


def floor_id(seconds: int) -> str:
    """The lowest possible ObjectId of ``seconds`` (used as a search bound, never served)."""
    return f"{max(0, seconds):08x}" + "0" * 16


def ceiling_id(seconds: int) -> str:
    """The highest possible ObjectId of ``seconds`` (used as a search bound, never served)."""
    return f"{max(0, seconds):08x}" + "f" * 16


class ObjectIdMinter:
    """A pool of ``writers`` independent writers, each with its own random part and counter."""

    def __init__(self, rng: random.Random, writers: int = 4) -> None:
        if writers < 1:
            raise ValueError("at least one writer is needed")
        self.randoms = [f"{rng.getrandbits(40):010x}" for _ in range(writers)]
        self.counters = [rng.getrandbits(24) for _ in range(writers)]

    @property
    def writers(self) -> int:
        return len(self.randoms)

    def mint(self, seconds: int, writer: int) -> str:
        """The next id of ``writer`` for a document written at ``seconds``."""
        counter = self.counters[writer]
        self.counters[writer] = (counter + 1) & COUNTER_MASK
        return f"{seconds:08x}{self.randoms[writer]}{counter:06x}"
