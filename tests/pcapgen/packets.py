"""Header builders: Ethernet (+802.1Q/QinQ tags), Linux cooked SLL/SLL2, IPv4 (+options, fragments),
IPv6 (+extension headers, fragments), TCP. Checksums are computed so that tshark shows no errors.
"""
import ipaddress
import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_LLDP = 0x88CC

PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMP = 1
PROTO_GRE = 47

IPV6_HOP_BY_HOP = 0
IPV6_ROUTING = 43
IPV6_FRAGMENT = 44
IPV6_DEST_OPTIONS = 60

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10


def mac(text):
    return bytes(int(part, 16) for part in text.split(":"))


def ip_bytes(address):
    return ipaddress.ip_address(address).packed


def is_ipv6(address):
    return ipaddress.ip_address(address).version == 6


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# --- link layers -------------------------------------------------------------------------------

def ethernet(dst, src, ethertype, payload, vlans=(), pad_with=b"\0"):
    """Ethernet II frame. `vlans` is a list of (tpid, vlan_id), outermost first. Frames shorter
    than 60 bytes are padded with `pad_with` bytes repeated (NICs pad; the padding is not IP)."""
    header = dst + src
    for tpid, vlan_id in vlans:
        header += struct.pack("!HH", tpid, vlan_id & 0x0FFF)
    frame = header + struct.pack("!H", ethertype) + payload
    if len(frame) < 60:
        need = 60 - len(frame)
        frame += (pad_with * need)[:need]
    return frame


def linux_sll(ethertype, payload, outgoing, src_mac):
    """DLT_LINUX_SLL (113): packet type (0 to us, 4 outgoing), ARPHRD_ETHER, address, protocol."""
    packet_type = 4 if outgoing else 0
    address = src_mac + b"\0" * (8 - len(src_mac))
    return struct.pack("!HHH", packet_type, 1, len(src_mac)) + address + struct.pack("!H", ethertype) + payload


def linux_sll2(ethertype, payload, outgoing, src_mac, ifindex=2):
    """DLT_LINUX_SLL2 (276): protocol, reserved, interface index, ARPHRD_ETHER, packet type,
    address length, address."""
    packet_type = 4 if outgoing else 0
    address = src_mac + b"\0" * (8 - len(src_mac))
    return struct.pack("!HHIHBB", ethertype, 0, ifindex, 1, packet_type, len(src_mac)) + address + payload


# --- IPv4 --------------------------------------------------------------------------------------

def ipv4(src, dst, proto, payload, ident=0, ttl=64, options=b"", flags_fragment=0x4000, total_length=None):
    """IPv4 header + payload. `flags_fragment` is the raw flags/fragment-offset field (DF by
    default); options are padded to a multiple of 4 with End-of-Options."""
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    length = ihl * 4 + len(payload) if total_length is None else total_length
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ident, flags_fragment, ttl, proto, 0,
                         ip_bytes(src), ip_bytes(dst)) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv4_fragments(src, dst, proto, payload, ident, cuts, ttl=64):
    """Splits an IPv4 payload at the byte offsets in `cuts` (each a multiple of 8) into fragments,
    returned in offset order."""
    bounds = [0] + list(cuts) + [len(payload)]
    fragments = []
    for start, end in zip(bounds, bounds[1:]):
        assert start % 8 == 0
        more = 0x2000 if end < len(payload) else 0
        fragments.append(ipv4(src, dst, proto, payload[start:end], ident=ident, ttl=ttl,
                              flags_fragment=more | (start // 8)))
    return fragments


# --- IPv6 --------------------------------------------------------------------------------------

def ipv6(src, dst, next_header, payload, hop_limit=64, flow_label=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | flow_label, len(payload), next_header, hop_limit,
                       ip_bytes(src), ip_bytes(dst)) + payload


def ipv6_options_header(next_header, options=b""):
    """Hop-by-hop or destination options header, padded with PadN to a multiple of 8."""
    body = options
    pad = -(2 + len(body)) % 8
    if pad == 1:
        body += b"\x00"  # Pad1
    elif pad > 1:
        body += bytes([1, pad - 2]) + b"\0" * (pad - 2)  # PadN
    length = 2 + len(body)
    return bytes([next_header, length // 8 - 1]) + body


def ipv6_routing_header(next_header, addresses, segments_left=0, routing_type=0):
    body = struct.pack("!BBBBI", next_header, 2 * len(addresses), routing_type, segments_left, 0)
    return body + b"".join(ip_bytes(a) for a in addresses)


def ipv6_fragment_header(next_header, offset, more, ident):
    return struct.pack("!BBHI", next_header, 0, (offset // 8) << 3 | (1 if more else 0), ident)


# --- TCP / UDP ---------------------------------------------------------------------------------

def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240, options=b""):
    options += b"\x01" * (-len(options) % 4)  # NOP padding
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, offset << 4,
                         flags, window, 0, 0) + options
    segment = header + payload
    pseudo = pseudo_header(src, dst, PROTO_TCP, len(segment))
    value = checksum(pseudo + segment)
    return segment[:16] + struct.pack("!H", value) + segment[18:]


def udp(src, dst, sport, dport, payload):
    segment = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    value = checksum(pseudo_header(src, dst, PROTO_UDP, len(segment)) + segment) or 0xFFFF
    return segment[:6] + struct.pack("!H", value) + segment[8:]


def pseudo_header(src, dst, proto, length):
    if is_ipv6(src):
        return ip_bytes(src) + ip_bytes(dst) + struct.pack("!IxxxB", length, proto)
    return ip_bytes(src) + ip_bytes(dst) + struct.pack("!xBH", proto, length)


def tcp_mss_option(mss=1460):
    return struct.pack("!BBH", 2, 4, mss)


def tcp_syn_options():
    """MSS, SACK permitted, timestamps, window scale: what a Linux SYN carries."""
    return tcp_mss_option() + b"\x04\x02" + struct.pack("!BBII", 8, 10, 1000, 0) + b"\x01\x03\x03\x07"
