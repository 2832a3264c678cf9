"""Capture and TcpFlow: a capture under construction, and TCP sessions with seq/ack bookkeeping.

A TcpFlow keeps the next sequence number of each side and acknowledges what the peer has sent, so
its segments are a consistent TCP conversation; a test case can then hold a segment back, send it
twice, overlap it or leave it out. Time is a counter the case moves on explicitly.
"""
import calendar
import json
import struct

from pcapfile import Record, classic_pcap, pcapng, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, \
    LINKTYPE_LINUX_SLL2, LINKTYPE_NULL, LINKTYPE_RAW
import packets as p

# 2026-01-15 09:00:00 UTC: every capture starts here.
BASE_TIME_NS = calendar.timegm((2026, 1, 15, 9, 0, 0)) * 1_000_000_000

CLIENT_MAC = p.mac("02:00:00:00:00:0c")
SERVER_MAC = p.mac("02:00:00:00:00:5e")


# --- link layers -------------------------------------------------------------------------------

class EthernetLink:
    linktype = LINKTYPE_ETHERNET

    def __init__(self, vlans=(), pad_with=b"\0"):
        self.vlans = vlans
        self.pad_with = pad_with

    def wrap(self, ethertype, payload, from_client):
        dst, src = (SERVER_MAC, CLIENT_MAC) if from_client else (CLIENT_MAC, SERVER_MAC)
        return p.ethernet(dst, src, ethertype, payload, self.vlans, self.pad_with)


class SllLink:
    linktype = LINKTYPE_LINUX_SLL

    def wrap(self, ethertype, payload, from_client):
        # Captured on the client host: its own packets are outgoing.
        return p.linux_sll(ethertype, payload, from_client, CLIENT_MAC if from_client else SERVER_MAC)


class Sll2Link:
    linktype = LINKTYPE_LINUX_SLL2

    def wrap(self, ethertype, payload, from_client):
        return p.linux_sll2(ethertype, payload, from_client, CLIENT_MAC if from_client else SERVER_MAC)


class RawIpLink:
    linktype = LINKTYPE_RAW

    def wrap(self, ethertype, payload, from_client):
        return payload


class NullLink:
    """BSD loopback (DLT_NULL): a 4-byte address family in the capturing host's byte order
    (little-endian here); 2 is AF_INET, 30 AF_INET6 as macOS numbers it."""
    linktype = LINKTYPE_NULL

    def wrap(self, ethertype, payload, from_client):
        family = 2 if ethertype == p.ETH_IPV4 else 30
        return struct.pack("<I", family) + payload


# --- capture -----------------------------------------------------------------------------------

class Capture:
    """Frames with timestamps plus the alerts the capture must produce."""

    def __init__(self, name, link=None, description="", file_format="pcap", snaplen=65535,
                 nanosecond=False, start_offset_s=0):
        self.name = name
        self.link = link or EthernetLink()
        self.description = description
        self.file_format = file_format
        self.snaplen = snaplen
        self.nanosecond = nanosecond
        self.records = []
        self.expected = []
        self.cut_bytes = 0  # bytes removed from the end of the file (a capture cut mid-record)
        self.now_ns = BASE_TIME_NS + start_offset_s * 1_000_000_000
        self.step_ns = 1_000_000  # 1 ms between frames unless the case sleeps

    def emit(self, frame, caplen=None):
        """One frame, or a list of frames a link made of one packet (outer IP fragments): each
        gets its own timestamp."""
        for one in frame if isinstance(frame, list) else [frame]:
            self.records.append(Record(self.now_ns, one, caplen))
            self.now_ns += self.step_ns

    def sleep(self, seconds):
        self.now_ns += int(seconds * 1_000_000_000)

    def expect(self, flow, recipient, kind, accepted, tunnel=None, **extra):
        """A recipient alert; an LMTP session's also says `delivered` (its own reply after the
        content: True, False, or None when there was none); a percent-hack recipient's `judged`
        ({domain, reason, relay}: the next hop judged instead of the address's domain). `tunnel`:
        "kind:id" of the tunnel identity that keys the flow (misdirect.tunnel)."""
        row = {"flow": flow.name, "recipient": recipient, "kind": kind, "accepted": accepted}
        for key in ("delivered", "judged"):
            if key in extra:
                row[key] = extra[key]
        if tunnel is not None:
            row["tunnel"] = tunnel
        self.expected.append(row)

    def expect_role(self, flow, role, domain, kind, rcode=None):
        """An alert for a look-alike `domain` in another role than recipient (dns-query with the
        response code it carries, dns-learned, tls-sni, sender, ...)."""
        row = {"flow": flow.name, "role": role, "domain": domain, "kind": kind}
        if role == "dns-query":
            row["rcode"] = rcode
        self.expected.append(row)

    def file_name(self):
        return self.name + (".pcapng" if self.file_format == "pcapng" else ".pcap")

    def file_bytes(self):
        if self.file_format == "pcapng":
            return pcapng(self.records, self.link.linktype, self.snaplen,
                          comment="misdirect pcapgen: " + self.name)
        data = classic_pcap(self.records, self.link.linktype, self.snaplen, self.nanosecond)
        return data[:len(data) - self.cut_bytes]

    def expected_bytes(self):
        return "".join(json.dumps(line) + "\n" for line in self.expected).encode()


def endpoint_text(address, port):
    return f"[{address}]:{port}" if p.is_ipv6(address) else f"{address}:{port}"


class TcpFlow:
    """One TCP connection. `out` receives each frame (default: the capture, in order)."""

    def __init__(self, cap, client, server, isn_client=1000, isn_server=500000, link=None,
                 ipv4_options=b"", ipv6_ext=None, out=None, ident_base=0x1000):
        self.cap = cap
        self.client_ip, self.client_port = client
        self.server_ip, self.server_port = server
        self.v6 = p.is_ipv6(self.client_ip)
        self.link = link or cap.link
        self.ipv4_options = ipv4_options
        self.ipv6_ext = ipv6_ext  # function(direction, upper_next_header) -> (first_nh, ext_bytes)
        self.out = out or cap.emit
        self.sides = {"c", "s"}  # sides whose frames reach the capture (one-sided captures drop "s")
        self.next_seq = {"c": isn_client, "s": isn_server}
        self.ident = {"c": ident_base, "s": ident_base + 0x4000}
        self.name = f"{endpoint_text(self.client_ip, self.client_port)}-{endpoint_text(self.server_ip, self.server_port)}"

    # --- building blocks ---

    def _ends(self, d):
        if d == "c":
            return self.client_ip, self.server_ip, self.client_port, self.server_port
        return self.server_ip, self.client_ip, self.server_port, self.client_port

    def tcp_segment(self, d, seq, data=b"", flags=p.TCP_ACK | p.TCP_PSH, ack=None, options=b""):
        src, dst, sport, dport = self._ends(d)
        peer = "s" if d == "c" else "c"
        if ack is None:
            ack = self.next_seq[peer] if flags & p.TCP_ACK else 0
        if not data and flags == (p.TCP_ACK | p.TCP_PSH):
            flags = p.TCP_ACK
        return p.tcp(src, dst, sport, dport, seq, ack, flags, data, options=options)

    def ip_packet(self, d, payload, proto=p.PROTO_TCP):
        src, dst, _, _ = self._ends(d)
        if self.v6:
            next_header, ext = proto, b""
            if self.ipv6_ext:
                next_header, ext = self.ipv6_ext(d, proto)
            return p.ipv6(src, dst, next_header, ext + payload)
        self.ident[d] = (self.ident[d] + 1) & 0xFFFF
        return p.ipv4(src, dst, proto, payload, ident=self.ident[d], options=self.ipv4_options)

    def frame(self, d, ip_packet):
        return self.link.wrap(p.ETH_IPV6 if self.v6 else p.ETH_IPV4, ip_packet, d == "c")

    def packet(self, d, seq, data=b"", flags=p.TCP_ACK | p.TCP_PSH, ack=None, options=b""):
        """A frame carrying one TCP segment at an explicit sequence number (no bookkeeping)."""
        return self.frame(d, self.ip_packet(d, self.tcp_segment(d, seq, data, flags, ack, options)))

    # --- conversation ---

    def put(self, d, frame):
        if d in self.sides:
            self.out(frame)

    def send(self, d, data, emit=True, flags=p.TCP_ACK | p.TCP_PSH):
        """Next segment of side `d` ('c' or 's'); advances its sequence number. Returns the frame."""
        if isinstance(data, str):
            data = data.encode()
        frame = self.packet(d, self.next_seq[d], data, flags)
        self.next_seq[d] = (self.next_seq[d] + len(data)) & 0xFFFFFFFF
        if emit:
            self.put(d, frame)
        return frame

    def c(self, data, emit=True):
        return self.send("c", data, emit)

    def s(self, data, emit=True):
        return self.send("s", data, emit)

    def ack(self, d, emit=True):
        frame = self.packet(d, self.next_seq[d], b"", p.TCP_ACK)
        if emit:
            self.put(d, frame)
        return frame

    def handshake(self):
        self.put("c", self.packet("c", self.next_seq["c"], flags=p.TCP_SYN, ack=0, options=p.tcp_syn_options()))
        self.next_seq["c"] = (self.next_seq["c"] + 1) & 0xFFFFFFFF
        self.put("s", self.packet("s", self.next_seq["s"], flags=p.TCP_SYN | p.TCP_ACK,
                                  options=p.tcp_syn_options()))
        self.next_seq["s"] = (self.next_seq["s"] + 1) & 0xFFFFFFFF
        self.ack("c")

    def close(self, first="c"):
        other = "s" if first == "c" else "c"
        self.put(first, self.packet(first, self.next_seq[first], flags=p.TCP_FIN | p.TCP_ACK))
        self.next_seq[first] = (self.next_seq[first] + 1) & 0xFFFFFFFF
        self.put(other, self.packet(other, self.next_seq[other], flags=p.TCP_FIN | p.TCP_ACK))
        self.next_seq[other] = (self.next_seq[other] + 1) & 0xFFFFFFFF
        self.ack(first)

    # --- SMTP ---

    def greet(self, helo="client.example.org", banner="220 mx.example.net ESMTP ready\r\n"):
        self.s(banner)
        self.c(f"EHLO {helo}\r\n")
        self.s("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-CHUNKING\r\n"
               "250-STARTTLS\r\n250 8BITMIME\r\n")

    def cmd(self, line, reply):
        self.c(line + "\r\n")
        self.s(reply + "\r\n")

    def data(self, body_lines, reply="250 2.0.0 Ok: queued as 4F2A1"):
        self.cmd("DATA", "354 End data with <CR><LF>.<CR><LF>")
        self.c("".join(line + "\r\n" for line in body_lines) + ".\r\n")
        self.s(reply + "\r\n")

    def quit(self):
        self.cmd("QUIT", "221 2.0.0 Bye")
        self.close()


class UdpFlow:
    """Datagrams between a client and a server port (DNS): `c` from the client, `s` back."""

    def __init__(self, cap, client, server, link=None, ident_base=0x2000):
        self.cap = cap
        self.client_ip, self.client_port = client
        self.server_ip, self.server_port = server
        self.v6 = p.is_ipv6(self.client_ip)
        self.link = link or cap.link
        self.ident = ident_base
        self.name = f"{endpoint_text(self.client_ip, self.client_port)}-{endpoint_text(self.server_ip, self.server_port)}"

    def send(self, d, payload):
        if d == "c":
            src, dst, sport, dport = self.client_ip, self.server_ip, self.client_port, self.server_port
        else:
            src, dst, sport, dport = self.server_ip, self.client_ip, self.server_port, self.client_port
        datagram = p.udp(src, dst, sport, dport, payload)
        if self.v6:
            packet = p.ipv6(src, dst, p.PROTO_UDP, datagram)
        else:
            self.ident = (self.ident + 1) & 0xFFFF
            packet = p.ipv4(src, dst, p.PROTO_UDP, datagram, ident=self.ident)
        self.cap.emit(self.link.wrap(p.ETH_IPV6 if self.v6 else p.ETH_IPV4, packet, d == "c"))

    def c(self, payload):
        self.send("c", payload)

    def s(self, payload):
        self.send("s", payload)


def message(subject="report", extra=()):
    return ["From: <alice@example.org>", "To: <bob@example.net>", f"Subject: {subject}", "",
            "Hello,", *extra, "regards"]


def tls_record(content_type, body):
    return struct.pack("!BHH", content_type, 0x0303 if content_type != 0x16 else 0x0301, len(body)) + body


def tls_client_hello(server_name=b"mx.example.net"):
    sni = struct.pack("!HBH", len(server_name) + 3, 0, len(server_name)) + server_name
    extensions = struct.pack("!HH", 0, len(sni)) + sni
    body = struct.pack("!H", 0x0303) + bytes(range(32)) + b"\x00" + struct.pack("!HHH", 4, 0xC02F, 0x009C) + \
        b"\x01\x00" + struct.pack("!H", len(extensions)) + extensions
    handshake = struct.pack("!B", 1) + len(body).to_bytes(3, "big") + body
    return tls_record(0x16, handshake)


def tls_client_hello_13(server_name=b"mx.example.net"):
    """A TLS 1.3 ClientHello laid out as a current client sends it: a GREASE extension first, the
    server name among a dozen others (not first), supported_versions with GREASE, an X25519 key
    share, a 32-octet legacy session id. Deterministic bytes (no randomness in the generator)."""
    def ext(kind, data):
        return struct.pack("!HH", kind, len(data)) + data
    sni = struct.pack("!HBH", len(server_name) + 3, 0, len(server_name)) + server_name
    suites = [0x3A3A, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009C, 0x009D]
    sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    extensions = b"".join([
        ext(0x0A0A, b""),                                                        # GREASE
        ext(0x0017, b""),                                                        # extended_master_secret
        ext(0xFF01, b"\x00"),                                                    # renegotiation_info
        ext(0x000A, struct.pack("!H4H", 8, 0x2A2A, 0x001D, 0x0017, 0x0018)),      # supported_groups
        ext(0x000B, b"\x01\x00"),                                                # ec_point_formats
        ext(0x0023, b""),                                                        # session_ticket
        ext(0x0000, sni),                                                        # server_name
        ext(0x0005, b"\x01\x00\x00\x00\x00"),                                    # status_request
        ext(0x000D, struct.pack("!H", 2 * len(sigalgs)) + struct.pack(f"!{len(sigalgs)}H", *sigalgs)),
        ext(0x0012, b""),                                                        # signed_certificate_timestamp
        ext(0x0033, struct.pack("!HHH", 36, 0x001D, 32) + bytes(range(0x40, 0x60))),  # key_share
        ext(0x002D, b"\x01\x01"),                                                # psk_key_exchange_modes
        ext(0x002B, b"\x06" + struct.pack("!3H", 0x5A5A, 0x0304, 0x0303)),       # supported_versions
        ext(0x001B, b"\x02\x00\x02"),                                            # compress_certificate
        ext(0x1A1A, b"\x00"),                                                    # GREASE
    ])
    body = struct.pack("!H", 0x0303) + bytes(range(0x80, 0xA0)) + b"\x20" + bytes(range(0xA0, 0xC0)) + \
        struct.pack("!H", 2 * len(suites)) + struct.pack(f"!{len(suites)}H", *suites) + b"\x01\x00" + \
        struct.pack("!H", len(extensions)) + extensions
    handshake = struct.pack("!B", 1) + len(body).to_bytes(3, "big") + body
    return tls_record(0x16, handshake)


def tls_server_hello():
    body = struct.pack("!H", 0x0303) + bytes(range(32, 64)) + b"\x00" + struct.pack("!H", 0xC02F) + b"\x00" + \
        struct.pack("!H", 0)
    handshake = struct.pack("!B", 2) + len(body).to_bytes(3, "big") + body
    return tls_record(0x16, handshake)


def tls_application_data(inner):
    """An application-data record. The bytes are really plaintext SMTP, which is the point: a
    parser that looked inside TLS would alert."""
    return tls_record(0x17, inner)
