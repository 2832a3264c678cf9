"""DNS messages as a resolver writes them (RFC 1035 §4): header, questions, answer/authority/
additional records, and name compression — every name, and every name inside RDATA (MX, CNAME,
NS, SOA), points at the longest suffix already written, as BIND and Unbound do.

    query(0x1a2b, "army.ml", MX)
    response(0x1a2b, "army.ml", MX, answers=[rr("army.ml", MX, 300, mx(10, "mx1.army.ml"))],
             additional=[rr("mx1.army.ml", A, 300, a("203.0.113.53"))])
"""
import ipaddress
import struct

A, NS, CNAME, SOA, MX, TXT, AAAA = 1, 2, 5, 6, 15, 16, 28
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3


class Writer:
    def __init__(self):
        self.data = bytearray()
        self.suffixes = {}  # lowercased suffix -> offset where it was written

    def name(self, name):
        labels = [label for label in name.rstrip(".").split(".") if label] if name not in ("", ".") else []
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if suffix in self.suffixes:
                self.data += struct.pack("!H", 0xC000 | self.suffixes[suffix])
                return
            if len(self.data) < 0x4000:
                self.suffixes[suffix] = len(self.data)
            encoded = labels[i].encode()
            self.data += bytes([len(encoded)]) + encoded
        self.data += b"\x00"


# RDATA builders: each is a function of the writer (names inside RDATA compress too).
def a(address):
    return lambda w: ipaddress.IPv4Address(address).packed


def aaaa(address):
    return lambda w: ipaddress.IPv6Address(address).packed


def mx(preference, exchange):
    def write(w):
        w.data += struct.pack("!H", preference)
        w.name(exchange)
    return write


def name_rdata(target):  # CNAME, NS, PTR
    return lambda w: w.name(target)


def soa(mname, rname, serial=2024050101, refresh=7200, retry=3600, expire=1209600, minimum=300):
    def write(w):
        w.name(mname)
        w.name(rname)
        w.data += struct.pack("!IIIII", serial, refresh, retry, expire, minimum)
    return write


def txt(*strings):
    return lambda w: b"".join(bytes([len(s)]) + s.encode() for s in strings)


def rr(name, rtype, ttl, rdata):
    return (name, rtype, ttl, rdata)


def message(ident, flags, questions, answers=(), authority=(), additional=()):
    w = Writer()
    w.data += struct.pack("!HHHHHH", ident, flags, len(questions), len(answers), len(authority), len(additional))
    for qname, qtype in questions:
        w.name(qname)
        w.data += struct.pack("!HH", qtype, 1)
    for name, rtype, ttl, rdata in (*answers, *authority, *additional):
        w.name(name)
        w.data += struct.pack("!HHIH", rtype, 1, ttl, 0)
        length_at = len(w.data) - 2
        start = len(w.data)
        written = rdata(w)
        if written is not None:  # builders that return bytes rather than writing
            w.data += written
        struct.pack_into("!H", w.data, length_at, len(w.data) - start)
    return bytes(w.data)


def query(ident, qname, qtype):
    """A recursive query, as a stub resolver sends it (RD set)."""
    return message(ident, 0x0100, [(qname, qtype)])


def response(ident, qname, qtype, answers=(), authority=(), additional=(), rcode=NOERROR):
    """A recursive resolver's answer: QR, RD, RA set."""
    return message(ident, 0x8180 | rcode, [(qname, qtype)], answers, authority, additional)


def tcp_framed(msg):
    """DNS over TCP: each message after its two-octet length (RFC 1035 §4.2.2)."""
    return struct.pack("!H", len(msg)) + msg
