"""Capture files: classic pcap (microsecond or nanosecond magic) and pcapng, written with struct.

A Capture collects frames with timestamps (nanoseconds since the Unix epoch) and the link type,
then serialises them. Nothing here reads the clock: every timestamp comes from the caller, so the
bytes are the same on every run.
"""
import struct

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_USER0 = 147
LINKTYPE_LINUX_SLL2 = 276


class Record:
    """One frame: its bytes on the wire and how many of them the capture kept."""

    __slots__ = ("timestamp_ns", "frame", "caplen")

    def __init__(self, timestamp_ns, frame, caplen=None):
        self.timestamp_ns = timestamp_ns
        self.frame = frame
        self.caplen = len(frame) if caplen is None else min(caplen, len(frame))


def classic_pcap(records, linktype, snaplen=65535, nanosecond=False):
    """Little-endian classic pcap. Frames longer than `snaplen` are cut, as tcpdump -s does."""
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for record in records:
        caplen = min(record.caplen, snaplen)
        seconds, rest_ns = divmod(record.timestamp_ns, 1_000_000_000)
        fraction = rest_ns if nanosecond else rest_ns // 1000
        out.append(struct.pack("<IIII", seconds, fraction, caplen, len(record.frame)))
        out.append(record.frame[:caplen])
    return b"".join(out)


def _pcapng_block(block_type, body):
    padded = body + b"\0" * (-len(body) % 4)
    total = 12 + len(padded)
    return struct.pack("<II", block_type, total) + padded + struct.pack("<I", total)


def _pcapng_option(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng(records, linktype, snaplen=65535, comment=None):
    """Little-endian pcapng: one section, one interface with nanosecond timestamps (if_tsresol 9),
    one Enhanced Packet Block per frame."""
    shb_options = b""
    if comment:
        shb_options += _pcapng_option(1, comment.encode())
    shb_options += _pcapng_option(0, b"") if shb_options else b""
    shb = _pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_options)
    idb_options = _pcapng_option(9, bytes([9])) + _pcapng_option(0, b"")
    idb = _pcapng_block(0x00000001, struct.pack("<HHI", linktype, 0, snaplen) + idb_options)
    blocks = [shb, idb]
    for record in records:
        caplen = min(record.caplen, snaplen)
        ts = record.timestamp_ns
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, caplen, len(record.frame))
        body += record.frame[:caplen] + b"\0" * (-caplen % 4)
        blocks.append(_pcapng_block(0x00000006, body))
    return b"".join(blocks)
