"""Encapsulations for generated captures: a TunnelLink delivers each frame of a TcpFlow inside a
stack of encapsulations, the way a cloud mirror (VXLAN, GENEVE), a switch's mirror session (ERSPAN
over GRE), a provider network (MPLS, PPPoE) or a router (GRE, IP-in-IP) hands it to a sensor.

A layer turns (payload, kind) into (payload, kind), innermost first; a kind is the ethertype of
what the payload is (0x6558 for a whole Ethernet frame, as GRE names it). The last kind is the
outer frame's ethertype. Every checksum is computed (outer IPv4 headers, UDP over IPv4 and IPv6,
GRE when asked), so tshark shows none wrong. Layers that differ per direction (MPLS labels, a
mirror's addresses) take a value per side; state that changes per packet (GRE sequence numbers,
IPv4 ids) is kept per layer, so the bytes are the same on every run.
"""
import struct

import packets as p
from pcapfile import LINKTYPE_ETHERNET

ETH_TEB = 0x6558      # an Ethernet frame (GRE's "transparent Ethernet bridging")
ETH_MPLS = 0x8847
ETH_PPPOE_SESSION = 0x8864
GRE_ERSPAN_2 = 0x88BE
GRE_ERSPAN_3 = 0x22EB
PROTO_IPIP = 4
PROTO_IPV6 = 41

TENANT_CLIENT_MAC = p.mac("02:00:00:00:10:0c")
TENANT_SERVER_MAC = p.mac("02:00:00:00:10:5e")
MIRROR_MAC = p.mac("02:00:00:00:ee:01")
SENSOR_MAC = p.mac("02:00:00:00:ee:02")


def ip_ethertype(address):
    return p.ETH_IPV6 if p.is_ipv6(address) else p.ETH_IPV4


class Outer:
    """The outer IP packet of an IP tunnel. `client_side` is (src, dst) of the packets that carry
    the client's frames, `server_side` of those that carry the server's (default: the same pair,
    as one mirror delivers both directions to one collector)."""

    def __init__(self, client_side, server_side=None, ident_base=0x7000):
        self.sides = {"c": client_side, "s": server_side or client_side}
        self.ident = ident_base

    def ends(self, d):
        return self.sides[d]

    def packet(self, d, proto, payload):
        src, dst = self.sides[d]
        if p.is_ipv6(src):
            return p.ipv6(src, dst, proto, payload), p.ETH_IPV6
        self.ident = (self.ident + 1) & 0xFFFF
        return p.ipv4(src, dst, proto, payload, ident=self.ident, flags_fragment=0), p.ETH_IPV4

    def udp(self, d, sport, dport, payload):
        src, dst = self.sides[d]
        return self.packet(d, p.PROTO_UDP, p.udp(src, dst, sport, dport, payload))


# --- layers ------------------------------------------------------------------------------------

class InnerEthernet:
    """The tenant's own Ethernet header (with its own VLAN tags) around the inner IP packet."""

    def __init__(self, vlans=()):
        self.vlans = vlans

    def wrap(self, payload, kind, d):
        dst, src = (TENANT_SERVER_MAC, TENANT_CLIENT_MAC) if d == "c" else (TENANT_CLIENT_MAC, TENANT_SERVER_MAC)
        return p.ethernet(dst, src, kind, payload, self.vlans), ETH_TEB


class Vxlan:
    """RFC 7348 over UDP `port`: the I flag and the VNI, then the Ethernet frame."""

    def __init__(self, vni, outer, port=4789, sport=49320):
        self.vni, self.outer, self.port, self.sport = vni, outer, port, sport

    def wrap(self, payload, kind, d):
        assert kind == ETH_TEB, "VXLAN carries Ethernet frames"
        return self.outer.udp(d, self.sport, self.port, struct.pack("!BxxxI", 0x08, self.vni << 8) + payload)


class Geneve:
    """RFC 8926 over UDP 6081, with option TLVs (each (class, type, data)); carries Ethernet or IP."""

    def __init__(self, vni, outer, options=(), port=6081, sport=49330):
        self.vni, self.outer, self.port, self.sport = vni, outer, port, sport
        self.options = b"".join(struct.pack("!HBB", cls, kind, len(data) // 4) + data for cls, kind, data in options)
        assert len(self.options) % 4 == 0

    def wrap(self, payload, kind, d):
        header = struct.pack("!BBHI", len(self.options) // 4, 0, kind, self.vni << 8)
        return self.outer.udp(d, self.sport, self.port, header + self.options + payload)


def gre_header(protocol, key=None, sequence=None, checksum_over=None):
    """RFC 2890 GRE: C, K and S bits as asked. With `checksum_over` (the payload) the checksum
    covers the GRE header and the payload."""
    flags = (0x8000 if checksum_over is not None else 0) | (0x2000 if key is not None else 0) | \
        (0x1000 if sequence is not None else 0)
    header = struct.pack("!HH", flags, protocol)
    checksum_at = None
    if checksum_over is not None:
        checksum_at = len(header)
        header += b"\0\0\0\0"
    if key is not None:
        header += struct.pack("!I", key)
    if sequence is not None:
        header += struct.pack("!I", sequence)
    if checksum_at is not None:
        value = p.checksum(header + checksum_over)
        header = header[:checksum_at] + struct.pack("!H", value) + header[checksum_at + 2:]
    return header


class Gre:
    """GRE over IP (protocol 47) carrying whatever is inside (Ethernet 0x6558, IPv4, IPv6,
    MPLS), with a key and/or a sequence number per direction and optionally a checksum."""

    def __init__(self, outer, key=None, sequence=False, checksum=False):
        self.outer, self.key, self.sequence, self.checksum = outer, key, sequence, checksum
        self.next_sequence = {"c": 1, "s": 1}

    def wrap(self, payload, kind, d):
        sequence = None
        if self.sequence:
            sequence = self.next_sequence[d]
            self.next_sequence[d] += 1
        header = gre_header(kind, self.key, sequence, payload if self.checksum else None)
        return self.outer.packet(d, p.PROTO_GRE, header + payload)


class ErspanII:
    """ERSPAN type II (GRE 0x88be with a sequence number): version 1, the mirrored port's VLAN,
    the session id and a port index, then the mirrored Ethernet frame."""

    def __init__(self, session, outer, vlan=0, index=7):
        self.session, self.outer, self.vlan, self.index = session, outer, vlan, index
        self.next_sequence = 0

    def wrap(self, payload, kind, d):
        assert kind == ETH_TEB, "ERSPAN carries Ethernet frames"
        header = struct.pack("!HHI", 0x1000 | self.vlan, self.session & 0x3FF, self.index & 0xFFFFF)
        self.next_sequence += 1
        return self.outer.packet(d, p.PROTO_GRE, gre_header(GRE_ERSPAN_2, sequence=self.next_sequence) + header + payload)


class ErspanIII:
    """ERSPAN type III (GRE 0x22eb): version 2, session id, a 32-bit timestamp, SGT, frame type
    Ethernet, hardware id, and with `platform` the O bit and the 8-byte platform-specific
    sub-header (platform id 3 here)."""

    def __init__(self, session, outer, platform):
        self.session, self.outer, self.platform = session, outer, platform
        self.next_sequence = 0
        self.timestamp = 0x10000

    def wrap(self, payload, kind, d):
        assert kind == ETH_TEB, "ERSPAN carries Ethernet frames"
        self.timestamp += 100
        self.next_sequence += 1
        header = struct.pack("!HHIHH", 0x2000, self.session & 0x3FF, self.timestamp, 0,
                             (0 << 10) | (5 << 4) | (1 if self.platform else 0))
        if self.platform:
            header += struct.pack("!II", (3 << 26) | 0x1234, 0x00000001)
        return self.outer.packet(d, p.PROTO_GRE, gre_header(GRE_ERSPAN_3, sequence=self.next_sequence) + header + payload)


class Mpls:
    """An MPLS label stack: the labels (outermost first) of the client's packets and of the
    server's (labels are chosen per direction by the next router), with an RFC 4385 pseudowire
    control word before an Ethernet frame when asked."""

    def __init__(self, client_labels, server_labels, control_word=False):
        self.labels = {"c": client_labels, "s": server_labels}
        self.control_word = control_word
        self.next_sequence = 0

    def wrap(self, payload, kind, d):
        labels = self.labels[d]
        stack = b"".join(struct.pack("!I", (label << 12) | (0x100 if i == len(labels) - 1 else 0) | 64)
                         for i, label in enumerate(labels))
        if kind == ETH_TEB and self.control_word:
            self.next_sequence += 1
            payload = struct.pack("!HH", 0, self.next_sequence) + payload
        return stack + payload, ETH_MPLS


class Pppoe:
    """A PPPoE session (RFC 2516): ver/type 0x11, code 0, the session id, the length, then the
    PPP protocol (0x0021 IPv4, 0x0057 IPv6) and the IP packet."""

    def __init__(self, session):
        self.session = session

    def wrap(self, payload, kind, d):
        ppp = 0x0021 if kind == p.ETH_IPV4 else 0x0057
        return struct.pack("!BBHHH", 0x11, 0, self.session, len(payload) + 2, ppp) + payload, ETH_PPPOE_SESSION


class IpInIp:
    """IP in IP: IPv4 (protocol 4) or IPv6 (protocol 41) inside an IPv4 or IPv6 outer packet
    (4in4, 6in4, 4in6 as DS-Lite carries it, 6in6)."""

    def __init__(self, outer):
        self.outer = outer

    def wrap(self, payload, kind, d):
        return self.outer.packet(d, PROTO_IPIP if kind == p.ETH_IPV4 else PROTO_IPV6, payload)


# --- the link ----------------------------------------------------------------------------------

def fragment_ipv4_packet(packet, size):
    """An IPv4 packet (no options) cut into fragments of `size` payload bytes (a multiple of 8),
    as the router before the sensor cuts a tunnel packet that outgrew its MTU."""
    assert size % 8 == 0
    header_length = (packet[0] & 0x0F) * 4
    ident, = struct.unpack("!H", packet[4:6])
    ttl, proto = packet[8], packet[9]
    src = ".".join(str(b) for b in packet[12:16])
    dst = ".".join(str(b) for b in packet[16:20])
    payload = packet[header_length:]
    if len(payload) <= size:
        return [packet]
    return p.ipv4_fragments(src, dst, proto, payload, ident, range(size, len(payload), size), ttl=ttl)


class TunnelLink:
    """An Ethernet link whose frames carry a flow inside `layers` (innermost first). The outer
    frame is the mirror's, with its own VLAN tags. `fragment_outer`: cut outer IPv4 packets whose
    payload is longer into fragments of that many bytes (the capture then holds several frames for
    one inner packet)."""
    linktype = LINKTYPE_ETHERNET

    def __init__(self, layers, vlans=(), fragment_outer=None):
        self.layers = layers
        self.vlans = vlans
        self.fragment_outer = fragment_outer

    def wrap(self, ethertype, payload, from_client):
        d = "c" if from_client else "s"
        kind = ethertype
        for layer in self.layers:
            payload, kind = layer.wrap(payload, kind, d)
        assert kind != ETH_TEB, "the outermost layer must be IP, MPLS or PPPoE"
        if self.fragment_outer and kind == p.ETH_IPV4:
            return [p.ethernet(SENSOR_MAC, MIRROR_MAC, kind, piece, self.vlans)
                    for piece in fragment_ipv4_packet(payload, self.fragment_outer)]
        return p.ethernet(SENSOR_MAC, MIRROR_MAC, kind, payload, self.vlans)
