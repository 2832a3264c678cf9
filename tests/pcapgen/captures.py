"""The capture catalogue: one function per capture, each building the packets and declaring the
alerts misdirect must raise on them with pcaps/protected.txt and pcaps/allow.txt.

Expected alerts are written by hand next to the packets that cause them, not computed by a second
matcher: each recipient below was chosen so that its look-alike kind is unambiguous under the
precedence tld-swap > dot-omission > dot-insertion > homoglyph > transposition > omission >
repetition > insertion > vowel-swap > replacement > hyphenation > bitsquatting > subdomain-label.
`accepted` is what the capture shows: true for a 2xx reply to the RCPT, false for 4xx/5xx, null
when the reply is not in the capture.
"""
import struct

import dns
import packets as p
from capture import CLIENT_MAC, SERVER_MAC, Capture, EthernetLink, NullLink, RawIpLink, Sll2Link, SllLink, TcpFlow, UdpFlow, \
    message, tls_application_data, tls_client_hello, tls_client_hello_13, tls_server_hello
from pcapfile import LINKTYPE_USER0, Record, classic_pcap

CATALOGUE = []


def case(function):
    CATALOGUE.append(function)
    return function


CLIENT = "192.0.2.10"
SERVER = "198.51.100.25"
OK_MAIL = "250 2.1.0 Ok"
OK_RCPT = "250 2.1.5 Ok"
NO_RCPT = "550 5.1.1 Recipient address rejected: User unknown"

# Recipients and the kind each must be reported as (protected: army.mil, navy.mil, af.mil,
# mod.gov.uk, examplebank.com).
KINDS = [
    ("tld@army.ml", "tld-swap"),                  # .mil -> .ml, the leak misdirect exists for
    ("tld2@mod.gv.uk", "tld-swap"),               # gov -> gv
    ("dotless@modgov.uk", "dot-omission"),        # mod.gov.uk without its first dot
    ("glyph@examp1ebank.com", "homoglyph"),       # l -> 1
    ("idn@xn--rmy-5cd.mil", "homoglyph"),         # Cyrillic a (U+0430) + "rmy.mil" as an A-label
    ("swap@amry.mil", "transposition"),           # r and m swapped
    ("short@nvy.mil", "omission"),                # navy without its a
    ("twice@armmy.mil", "repetition"),            # m doubled
    ("vowel@novy.mil", "vowel-swap"),             # a -> o
    ("dash@ar-my.mil", "hyphenation"),            # a hyphen inside the label
    ("sub@hq.army.ml", "tld-swap"),               # a subdomain of a look-alike alerts too
    ("Upper@ARMY.ML", "tld-swap"),                # case is not a disguise; recipient kept as sent
    ("dot@navy.ml.", "tld-swap"),                 # a trailing dot is ignored
]
NOT_ALERTS = [
    "exact@army.mil",            # the protected domain itself
    "sub@hq.army.mil",           # a subdomain of a protected domain
    "label@notarmy.ml",          # look-alike only as a substring: label boundaries count
    "suffix@army.ml.example.org",  # look-alike as a prefix of another domain
    "owned@examplebank.co",      # on the allow list (the bank's own defensive registration)
    "other@example.net",
]


def simple_session(cap, flow, recipients, handshake=True, quit=True):
    """EHLO, one transaction with `recipients` [(address, reply, kind or None)], DATA, QUIT."""
    if handshake:
        flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    for address, reply, kind in recipients:
        flow.cmd(f"RCPT TO:<{address}>", reply)
        if kind:
            accepted = None if reply is None else reply.startswith("2")
            cap.expect(flow, address, kind, accepted)
    flow.data(message())
    if quit:
        flow.quit()


@case
def plain_session():
    cap = Capture("plain-session", description="Ethernet/IPv4, port 25, full handshake: accepted (250), "
                  "rejected (550, 450) look-alike recipients, non-alerts (exact, subdomain of protected, "
                  "label boundary, suffix, allow list), DATA delivered, QUIT, FIN.")
    flow = TcpFlow(cap, (CLIENT, 40001), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    plan = [
        ("bob@army.ml", OK_RCPT, "tld-swap"),
        ("carol@amry.mil", NO_RCPT, "transposition"),
        ("dave@army.mil", OK_RCPT, None),
        ("erin@hq.army.mil", OK_RCPT, None),
        ("frank@hq.army.ml", OK_RCPT, "tld-swap"),
        ("grace@notarmy.ml", OK_RCPT, None),
        ("heidi@army.ml.example.org", OK_RCPT, None),
        ("ivan@examplebank.co", OK_RCPT, None),
        ("judy@navy.ml", "450 4.2.0 Greylisted, try again later", "tld-swap"),
    ]
    for address, reply, kind in plan:
        flow.cmd(f"RCPT TO:<{address}>", reply)
        if kind:
            cap.expect(flow, address, kind, reply.startswith("2"))
    flow.data(message())
    flow.quit()
    return cap


@case
def kinds():
    cap = Capture("kinds", description="One accepted recipient per look-alike kind (tld-swap, dot-omission, "
                  "homoglyph ASCII and IDN A-label, transposition, omission, repetition, vowel-swap, "
                  "hyphenation), a subdomain of a look-alike, upper case, trailing dot, RCPT parameters; "
                  "then the non-alerts.")
    flow = TcpFlow(cap, (CLIENT, 40002), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org> BODY=8BITMIME", OK_MAIL)
    for address, kind in KINDS:
        flow.cmd(f"RCPT TO:<{address}>", OK_RCPT)
        cap.expect(flow, address, kind, True)
    flow.cmd("RCPT TO:<notify@navy.ml> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;notify@navy.ml", OK_RCPT)
    cap.expect(flow, "notify@navy.ml", "tld-swap", True)
    for address in NOT_ALERTS:
        flow.cmd(f"RCPT TO:<{address}>", OK_RCPT)
    flow.data(message())
    flow.quit()
    return cap


@case
def pipelining():
    cap = Capture("pipelining", description="PIPELINING: MAIL, three RCPTs and DATA in one segment, the "
                  "replies in one segment (second RCPT rejected); a second transaction whose commands "
                  "are split mid-line across segments and whose replies arrive one by one, ended by RSET.")
    flow = TcpFlow(cap, (CLIENT, 40003), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.c("MAIL FROM:<alice@example.org>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@navy.ml>\r\n"
           "RCPT TO:<d@nvy.mil>\r\nDATA\r\n")
    flow.s(f"{OK_MAIL}\r\n{OK_RCPT}\r\n554 5.7.1 Relay access denied\r\n{OK_RCPT}\r\n"
           "354 End data with <CR><LF>.<CR><LF>\r\n")
    cap.expect(flow, "b@army.ml", "tld-swap", True)
    cap.expect(flow, "c@navy.ml", "tld-swap", False)
    cap.expect(flow, "d@nvy.mil", "omission", True)
    flow.c("".join(line + "\r\n" for line in message()) + ".\r\n")
    flow.s("250 2.0.0 Ok: queued as 11AA\r\n")
    flow.c("MAIL FROM:<alice@example.org>\r\nRCPT TO:<e@ar")
    flow.c("mmy.mil>\r\nRCPT TO:<f@army.mil>\r\nRSET\r\n")
    flow.s(f"{OK_MAIL}\r\n")
    flow.s(f"{OK_RCPT}\r\n")
    flow.s(f"{OK_RCPT}\r\n")
    flow.s("250 2.0.0 Ok\r\n")
    cap.expect(flow, "e@armmy.mil", "repetition", True)
    flow.quit()
    return cap


def vlan_capture(name, vlans, port, description):
    cap = Capture(name, link=EthernetLink(vlans=vlans), description=description)
    flow = TcpFlow(cap, (CLIENT, port), (SERVER, 25))
    simple_session(cap, flow, [("v@army.ml", OK_RCPT, "tld-swap"), ("w@amry.mil", NO_RCPT, "transposition")])
    return cap


@case
def vlan_8021q():
    return vlan_capture("vlan-8021q", [(0x8100, 100)], 40010, "One 802.1Q tag (TPID 0x8100, VLAN 100).")


@case
def qinq_88a8():
    return vlan_capture("qinq-88a8", [(0x88A8, 200), (0x8100, 100)], 40011,
                        "QinQ: outer 802.1ad tag (TPID 0x88a8, VLAN 200), inner 0x8100 VLAN 100.")


@case
def qinq_9100():
    return vlan_capture("qinq-9100", [(0x9100, 300), (0x8100, 100)], 40012,
                        "QinQ with the pre-standard outer TPID 0x9100 (VLAN 300), inner 0x8100 VLAN 100.")


@case
def ipv4_fragments():
    cap = Capture("ipv4-fragments", description="IPv4 fragments: a RCPT segment cut into three fragments "
                  "sent last-first-last-middle (one duplicate), and a second one cut inside the TCP header (8-byte first "
                  "fragment) sent middle-last-first.")
    flow = TcpFlow(cap, (CLIENT, 40020), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)

    def fragmented(line, cuts, order, ident):
        data = line.encode()
        segment = flow.tcp_segment("c", flow.next_seq["c"], data)
        flow.next_seq["c"] += len(data)
        pieces = p.ipv4_fragments(CLIENT, SERVER, p.PROTO_TCP, segment, ident, cuts)
        for index in order:
            cap.emit(flow.frame("c", pieces[index]))

    fragmented("RCPT TO:<frag@army.ml>\r\n", [16, 32], [2, 0, 2, 1], 0x7001)  # the last one twice
    flow.s(OK_RCPT + "\r\n")
    cap.expect(flow, "frag@army.ml", "tld-swap", True)
    fragmented("RCPT TO:<frag2@amry.mil>\r\n", [8, 24], [1, 2, 0], 0x7002)
    flow.s(NO_RCPT + "\r\n")
    cap.expect(flow, "frag2@amry.mil", "transposition", False)
    flow.data(message())
    flow.quit()
    return cap


@case
def ipv4_options():
    cap = Capture("ipv4-options", description="IPv4 headers with options (Router Alert, Record Route): "
                  "IHL 9, so TCP starts 36 bytes into the IP packet.")
    options = b"\x94\x04\x00\x00" + b"\x07\x0b\x04" + b"\0" * 8  # Router Alert; Record Route, 2 slots
    flow = TcpFlow(cap, (CLIENT, 40021), (SERVER, 25), ipv4_options=options)
    simple_session(cap, flow, [("opt@army.ml", OK_RCPT, "tld-swap")])
    return cap


@case
def ipv6_ext_headers():
    cap = Capture("ipv6-ext-headers", description="IPv6: client packets carry hop-by-hop, routing (type 0, "
                  "segments left 0) and destination-options headers; server packets a destination-options "
                  "header; one RCPT is fragmented (fragment header after routing) into three fragments "
                  "sent out of order.")
    client, server = "2001:db8:10::10", "2001:db8:25::25"

    def extensions(d, upper):
        if d == "c":
            dest = p.ipv6_options_header(upper)
            routing = p.ipv6_routing_header(p.IPV6_DEST_OPTIONS, [])
            hop = p.ipv6_options_header(p.IPV6_ROUTING, b"\x05\x02\x00\x00")  # Router Alert (MLD)
            return p.IPV6_HOP_BY_HOP, hop + routing + dest
        return p.IPV6_DEST_OPTIONS, p.ipv6_options_header(upper)

    flow = TcpFlow(cap, (client, 40030), (server, 25), ipv6_ext=extensions)
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<six@army.ml>", OK_RCPT)
    cap.expect(flow, "six@army.ml", "tld-swap", True)

    data = b"RCPT TO:<six2@nvy.mil>\r\n"
    segment = flow.tcp_segment("c", flow.next_seq["c"], data)
    flow.next_seq["c"] += len(data)
    hop = p.ipv6_options_header(p.IPV6_ROUTING, b"\x05\x02\x00\x00")
    routing = p.ipv6_routing_header(p.IPV6_FRAGMENT, [])
    fragmentable = p.ipv6_options_header(p.PROTO_TCP) + segment
    cuts = [0, 16, 40, len(fragmentable)]
    pieces = []
    for start, end in zip(cuts, cuts[1:]):
        frag = p.ipv6_fragment_header(p.IPV6_DEST_OPTIONS, start, end < len(fragmentable), 0x5A5A0001)
        pieces.append(p.ipv6(client, server, p.IPV6_HOP_BY_HOP, hop + routing + frag + fragmentable[start:end]))
    for index in [1, 2, 0]:
        cap.emit(flow.frame("c", pieces[index]))
    flow.s(OK_RCPT + "\r\n")
    cap.expect(flow, "six2@nvy.mil", "omission", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def tcp_out_of_order():
    cap = Capture("tcp-out-of-order", description="TCP reordering: one RCPT in three segments sent 3-1-2; "
                  "its reply in two segments sent reversed; two pipelined RCPT segments sent reversed.")
    flow = TcpFlow(cap, (CLIENT, 40040), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    pieces = [flow.c(x, emit=False) for x in ("RCPT TO", ":<oo@ar", "my.ml>\r\n")]
    for index in [2, 0, 1]:
        cap.emit(pieces[index])
    replies = [flow.s(x, emit=False) for x in ("250 2.1.5 ", "Ok\r\n")]
    cap.emit(replies[1])
    cap.emit(replies[0])
    cap.expect(flow, "oo@army.ml", "tld-swap", True)
    pieces = [flow.c(x, emit=False) for x in ("RCPT TO:<o2@amry.mil>\r\n", "RCPT TO:<o3@nvy.mil>\r\n")]
    cap.emit(pieces[1])
    cap.emit(pieces[0])
    flow.s(f"{OK_RCPT}\r\n{NO_RCPT}\r\n")
    cap.expect(flow, "o2@amry.mil", "transposition", True)
    cap.expect(flow, "o3@nvy.mil", "omission", False)
    flow.data(message())
    flow.quit()
    return cap


@case
def tcp_retransmission():
    cap = Capture("tcp-retransmission", description="Retransmissions: a RCPT segment sent twice, its reply "
                  "sent twice, and a retransmission that repeats a RCPT and carries the next one as new "
                  "bytes. Each recipient alerts once.")
    flow = TcpFlow(cap, (CLIENT, 40050), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    frame = flow.c("RCPT TO:<r1@army.ml>\r\n")
    cap.sleep(0.2)
    cap.emit(frame)
    reply = flow.s(OK_RCPT + "\r\n")
    cap.sleep(0.2)
    cap.emit(reply)
    cap.expect(flow, "r1@army.ml", "tld-swap", True)
    start = flow.next_seq["c"]
    flow.c("RCPT TO:<r2@amry.mil>\r\n")
    cap.sleep(0.2)
    both = b"RCPT TO:<r2@amry.mil>\r\nRCPT TO:<r3@nvy.mil>\r\n"
    cap.emit(flow.packet("c", start, both))
    flow.next_seq["c"] = start + len(both)
    flow.s(f"{OK_RCPT}\r\n{OK_RCPT}\r\n")
    cap.expect(flow, "r2@amry.mil", "transposition", True)
    cap.expect(flow, "r3@nvy.mil", "omission", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def tcp_overlap():
    cap = Capture("tcp-overlap", description="Overlapping segments with different bytes; first data wins. "
                  "Flow 1: an in-order segment, then one that overlaps its domain with 'zzzz'. Flow 2: the "
                  "later half arrives first (held out of order), then the earlier half overlaps it with "
                  "'zzzz'. Both must alert on army.ml; last-data-wins would see zzzz.ml.")
    line = "RCPT TO:<dan@army.ml>\r\n"
    at = line.index("army")
    flow = TcpFlow(cap, (CLIENT, 40060), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    start = flow.next_seq["c"]
    cap.emit(flow.packet("c", start, line[:at + 5].encode()))
    altered = line[:at] + "zzzz" + line[at + 4:]
    cap.emit(flow.packet("c", start + at, altered[at:].encode()))
    flow.next_seq["c"] = start + len(line)
    flow.s(OK_RCPT + "\r\n")
    cap.expect(flow, "dan@army.ml", "tld-swap", True)
    flow.data(message())
    flow.quit()

    line = "RCPT TO:<eve@army.ml>\r\n"
    flow = TcpFlow(cap, (CLIENT, 40061), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    start = flow.next_seq["c"]
    cap.emit(flow.packet("c", start + at, line[at:].encode()))
    altered = line[:at] + "zzzz"
    cap.emit(flow.packet("c", start, altered.encode()))
    flow.next_seq["c"] = start + len(line)
    flow.s(OK_RCPT + "\r\n")
    cap.expect(flow, "eve@army.ml", "tld-swap", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def tcp_seq_wrap():
    cap = Capture("tcp-seq-wrap", description="Sequence wrap: both ISNs just below 2^32; the client's RCPT "
                  "crosses 2^32 -> 0 and is sent as two segments in reverse order; the server's sequence "
                  "wraps inside its EHLO reply.")
    flow = TcpFlow(cap, (CLIENT, 40070), (SERVER, 25), isn_client=2**32 - 60, isn_server=2**32 - 60)
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    to_wrap = (2**32 - flow.next_seq["c"]) % 2**32
    line = "RCPT TO:<wrap@army.ml>\r\n"
    assert 0 < to_wrap < len(line), to_wrap
    first = flow.c(line[:to_wrap], emit=False)
    second = flow.c(line[to_wrap:], emit=False)
    cap.emit(second)
    cap.emit(first)
    flow.s(OK_RCPT + "\r\n")
    cap.expect(flow, "wrap@army.ml", "tld-swap", True)
    flow.cmd("RCPT TO:<wrap2@amry.mil>", NO_RCPT)
    cap.expect(flow, "wrap2@amry.mil", "transposition", False)
    flow.data(message())
    flow.quit()
    return cap


@case
def tcp_gap():
    cap = Capture("tcp-gap", description="A client segment that is never captured (pipelined, it ends "
                  "one RCPT and starts the next): the hole never fills; after the gap wait (5 s) the "
                  "parser resynchronises on the next line. The broken recipients never alert; the server's "
                  "replies to them have no command; NOOP and a later RCPT pair normally.")
    flow = TcpFlow(cap, (CLIENT, 40080), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<a@army.ml>", OK_RCPT)
    cap.expect(flow, "a@army.ml", "tld-swap", True)
    flow.c("RCPT TO:<q@na")
    flow.c("vy.ml>\r\nRCPT TO:<r@armm", emit=False)  # lost
    flow.c("y.mil>\r\n")
    flow.s(f"{OK_RCPT}\r\n{OK_RCPT}\r\n")
    flow.ack("c")
    cap.sleep(6)
    flow.cmd("NOOP", "250 2.0.0 Ok")
    flow.cmd("RCPT TO:<s@nvy.mil>", OK_RCPT)
    cap.expect(flow, "s@nvy.mil", "omission", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def midstream():
    cap = Capture("midstream", description="Midstream pickup, no handshake seen. Flow 1 starts at a command "
                  "boundary (a RCPT, accepted; then one rejected, DATA, QUIT). Flow 2 starts inside a message "
                  "body whose tail holds a RCPT line (no alert), then the end-of-data mark, the server's 250, "
                  "and a new transaction whose RCPT alerts.")
    flow = TcpFlow(cap, (CLIENT, 40090), (SERVER, 25), isn_client=7_340_000, isn_server=91_000_000)
    flow.cmd("RCPT TO:<mid@army.ml>", OK_RCPT)
    cap.expect(flow, "mid@army.ml", "tld-swap", True)
    flow.cmd("RCPT TO:<mid2@navy.ml>", NO_RCPT)
    cap.expect(flow, "mid2@navy.ml", "tld-swap", False)
    flow.data(message())
    flow.quit()
    flow = TcpFlow(cap, (CLIENT, 40091), (SERVER, 25), isn_client=3_000_000_000, isn_server=12_345)
    flow.c("ll forward it to\r\nRCPT TO:<body@army.ml>\r\nregards\r\n.\r\n")
    flow.s("250 2.0.0 Ok: queued as 55EE\r\n")
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<mid3@amry.mil>", OK_RCPT)
    cap.expect(flow, "mid3@amry.mil", "transposition", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def one_sided():
    cap = Capture("one-sided", description="Only client->server packets (SYN, commands, FIN): commands are "
                  "parsed, replies unknown, so every alert has accepted null. Two transactions.")
    flow = TcpFlow(cap, (CLIENT, 40100), (SERVER, 25))
    flow.sides = {"c"}
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<one@army.ml>", OK_RCPT)
    flow.cmd("RCPT TO:<two@amry.mil>", OK_RCPT)
    cap.expect(flow, "one@army.ml", "tld-swap", None)
    cap.expect(flow, "two@amry.mil", "transposition", None)
    flow.data(message())
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<three@nvy.mil>", OK_RCPT)
    cap.expect(flow, "three@nvy.mil", "omission", None)
    flow.quit()
    return cap


@case
def truncated_snaplen():
    cap = Capture("truncated-snaplen", snaplen=96, description="Captured with snaplen 96 (42 payload bytes "
                  "after Ethernet/IPv4/TCP): short commands fit; one long RCPT is cut (the IP length says "
                  "how much is missing) and must not alert; after it the stream resynchronises on the next "
                  "line (a NOOP is lost to the resync) and a later RCPT alerts.")
    flow = TcpFlow(cap, (CLIENT, 40110), (SERVER, 25))
    flow.handshake()
    flow.s("220 mx ESMTP\r\n")
    flow.cmd("EHLO c.example", "250 mx")
    flow.cmd("MAIL FROM:<a@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<cut@army.ml>", OK_RCPT)
    cap.expect(flow, "cut@army.ml", "tld-swap", True)
    flow.cmd("RCPT TO:<a.very.long.local.part.that.is.cut@navy.ml>", OK_RCPT)
    cap.sleep(6)
    flow.cmd("NOOP", "250 Ok")
    flow.cmd("RCPT TO:<snap@amry.mil>", OK_RCPT)
    cap.expect(flow, "snap@amry.mil", "transposition", True)
    flow.cmd("QUIT", "221 Bye")
    flow.close()
    return cap


@case
def truncated_file():
    cap = Capture("truncated-file", description="A file cut in the middle of its last record (the final ACK): "
                  "replay processes every whole record, says where it stopped and exits non-zero.")
    flow = TcpFlow(cap, (CLIENT, 40120), (SERVER, 25))
    simple_session(cap, flow, [("cut1@army.ml", OK_RCPT, "tld-swap"), ("cut2@amry.mil", NO_RCPT, "transposition")])
    cap.cut_bytes = 30  # the file loses the last 30 bytes (inside the last frame's data)
    return cap


@case
def ethernet_padding():
    pad = b"\xde\xad\xbe\xef\x55\xaa"
    cap = Capture("ethernet-padding", link=EthernetLink(pad_with=pad), description="Frames under 60 bytes "
                  "padded with non-zero junk (every pure ACK, and a RCPT sent 1-5 bytes per segment): "
                  "payload length must come from the IP header, or the junk lands in the stream.")
    flow = TcpFlow(cap, (CLIENT, 40130), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    line = "RCPT TO:<pad@army.ml>\r\n"
    sizes = [4, 1, 3, 5, 2, 4, 4]
    at = 0
    for size in sizes:
        flow.c(line[at:at + size])
        flow.ack("s")
        at += size
    assert at == len(line)
    flow.s(OK_RCPT + "\r\n")
    cap.expect(flow, "pad@army.ml", "tld-swap", True)
    flow.ack("c")
    flow.cmd("RCPT TO:<pad2@nvy.mil>", NO_RCPT)
    cap.expect(flow, "pad2@nvy.mil", "omission", False)
    flow.data(message())
    flow.quit()
    return cap


@case
def nonstandard_port():
    cap = Capture("nonstandard-port", description="SMTP on port 8025, found by behaviour (220 greeting, "
                  "EHLO answer). Not SMTP: an FTP-like server on 2121 (220 greeting, USER answer) whose client "
                  "later sends a RCPT line, and an HTTP POST on 8080 whose body holds one: neither alerts.")
    flow = TcpFlow(cap, (CLIENT, 40140), (SERVER, 8025))
    simple_session(cap, flow, [("port@army.ml", OK_RCPT, "tld-swap")])
    ftp = TcpFlow(cap, (CLIENT, 40141), (SERVER, 2121))
    ftp.handshake()
    ftp.s("220 ftp.example.net FTP server ready\r\n")
    ftp.cmd("USER anonymous", "331 Please specify the password.")
    ftp.cmd("RCPT TO:<ftp@army.ml>", "500 Unknown command.")
    ftp.cmd("QUIT", "221 Goodbye.")
    ftp.close()
    http = TcpFlow(cap, (CLIENT, 40142), (SERVER, 8080))
    http.handshake()
    body = "RCPT TO:<http@army.ml>\r\n"
    http.c(f"POST /submit HTTP/1.1\r\nHost: www.example.net\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    http.s("HTTP/1.1 204 No Content\r\n\r\n")
    http.close()
    return cap


@case
def http_connect_tunnel():
    cap = Capture("http-connect-tunnel", description="SMTP through an open HTTP proxy: CONNECT "
                  "mx.example.net:25 to 203.0.113.8:3128, 200 Connection established, then the SMTP "
                  "session inside the same TCP connection.")
    flow = TcpFlow(cap, (CLIENT, 40150), ("203.0.113.8", 3128))
    flow.handshake()
    flow.c("CONNECT mx.example.net:25 HTTP/1.1\r\nHost: mx.example.net:25\r\nUser-Agent: spam/1.0\r\n\r\n")
    flow.s("HTTP/1.1 200 Connection established\r\n\r\n")
    simple_session(cap, flow, [("tun@army.ml", OK_RCPT, "tld-swap"), ("tun2@amry.mil", NO_RCPT, "transposition")],
                   handshake=False)
    return cap


@case
def socks5_tunnel():
    cap = Capture("socks5-tunnel", description="SMTP through a SOCKS5 proxy (203.0.113.9:1080): greeting "
                  "(no auth), CONNECT to the domain name mx.example.net port 25, success reply with an "
                  "IPv4 bound address, then the SMTP session.")
    flow = TcpFlow(cap, (CLIENT, 40160), ("203.0.113.9", 1080))
    flow.handshake()
    flow.c(b"\x05\x01\x00")
    flow.s(b"\x05\x00")
    name = b"mx.example.net"
    flow.c(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", 25))
    flow.s(b"\x05\x00\x00\x01" + bytes([203, 0, 113, 9]) + struct.pack("!H", 50123))
    simple_session(cap, flow, [("sox@navy.ml", NO_RCPT, "tld-swap"), ("sox2@amry.mil", OK_RCPT, "transposition")],
                   handshake=False)
    return cap


@case
def smtps_465():
    cap = Capture("smtps-465", description="Implicit TLS on port 465: counted, not parsed. The application "
                  "data records deliberately hold plaintext RCPT lines; no alert may come from them.")
    flow = TcpFlow(cap, (CLIENT, 40170), (SERVER, 465))
    flow.handshake()
    flow.c(tls_client_hello())
    flow.s(tls_server_hello())
    flow.c(b"\x14\x03\x03\x00\x01\x01")
    flow.s(b"\x14\x03\x03\x00\x01\x01")
    flow.s(tls_application_data(b"220 mx.example.net ESMTP\r\n"))
    flow.c(tls_application_data(b"EHLO client.example.org\r\n"))
    flow.s(tls_application_data(b"250 mx.example.net\r\n"))
    flow.c(tls_application_data(b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<tls@army.ml>\r\n"))
    flow.s(tls_application_data(b"250 Ok\r\n250 Ok\r\n"))
    flow.close()
    return cap


@case
def starttls():
    cap = Capture("starttls", description="STARTTLS then TLS: a recipient sent before STARTTLS alerts "
                  "(accepted); after 220 the client's next bytes are a TLS ClientHello, so the flow is "
                  "encrypted and plaintext-looking RCPT lines in later records never alert.")
    flow = TcpFlow(cap, (CLIENT, 40180), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<pre@army.ml>", OK_RCPT)
    cap.expect(flow, "pre@army.ml", "tld-swap", True)
    flow.cmd("RSET", "250 2.0.0 Ok")
    flow.cmd("STARTTLS", "220 2.0.0 Ready to start TLS")
    flow.c(tls_client_hello())
    flow.s(tls_server_hello())
    flow.c(b"\x14\x03\x03\x00\x01\x01")
    flow.s(b"\x14\x03\x03\x00\x01\x01")
    flow.c(tls_application_data(b"EHLO client.example.org\r\n"))
    flow.s(tls_application_data(b"250 mx.example.net\r\n"))
    flow.c(tls_application_data(b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<post@navy.ml>\r\n"))
    flow.s(tls_application_data(b"250 Ok\r\n250 Ok\r\n"))
    flow.close()
    return cap


@case
def starttls_plaintext():
    cap = Capture("starttls-plaintext", description="Flow 1: STARTTLS answered 220, then the client goes on "
                  "in plaintext (a decrypted capture or a broken client): an anomaly, and parsing goes on, "
                  "so its RCPTs alert. Flow 2: STARTTLS refused with 454; the session goes on normally.")
    flow = TcpFlow(cap, (CLIENT, 40190), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("STARTTLS", "220 2.0.0 Ready to start TLS")
    flow.c("EHLO client.example.org\r\n")
    flow.s("250-mx.example.net\r\n250 PIPELINING\r\n")
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<plain@army.ml>", OK_RCPT)
    cap.expect(flow, "plain@army.ml", "tld-swap", True)
    flow.data(message())
    flow.quit()
    flow = TcpFlow(cap, (CLIENT, 40191), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("STARTTLS", "454 4.7.0 TLS not available due to local problem")
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<refused@amry.mil>", OK_RCPT)
    cap.expect(flow, "refused@amry.mil", "transposition", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def bdat_body():
    cap = Capture("bdat-body", description="CHUNKING: BDAT chunks whose bytes hold 'RCPT TO:<...@army.ml>' "
                  "lines (one split across the chunk boundary, one at a chunk start) must not alert; a "
                  "pipelined BDAT 0 LAST; then a new transaction whose RCPT alerts (command mode is back).")
    flow = TcpFlow(cap, (CLIENT, 40200), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<real@navy.ml>", OK_RCPT)
    cap.expect(flow, "real@navy.ml", "tld-swap", True)
    chunk1 = b"Subject: test\r\n\r\nRCPT TO:<body@army.ml>\r\nMAIL FROM:<x@y.z>\r\nRCPT TO:<spl"
    chunk2 = b"it@army.ml>\r\n"
    chunk3 = b"RCPT TO:<start@amry.mil>\r\nQUIT\r\nRSET\r\n"
    flow.c(b"BDAT %d\r\n" % len(chunk1) + chunk1)
    flow.s("250 2.0.0 Ok: %d octets received\r\n" % len(chunk1))
    flow.c(b"BDAT %d\r\n" % len(chunk2) + chunk2)
    flow.s("250 2.0.0 Ok: %d octets received\r\n" % len(chunk2))
    flow.c(b"BDAT %d\r\n" % len(chunk3) + chunk3 + b"BDAT 0 LAST\r\n")
    flow.s("250 2.0.0 Ok: %d octets received\r\n250 2.0.0 Ok: queued as 22BB\r\n" % len(chunk3))
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<after@amry.mil>", OK_RCPT)
    cap.expect(flow, "after@amry.mil", "transposition", True)
    chunk = b"RCPT TO:<last@nvy.mil>\r\n"
    flow.c(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    flow.s("250 2.0.0 Ok: queued as 33CC\r\n")
    flow.quit()
    return cap


@case
def data_body():
    cap = Capture("data-body", description="DATA whose body holds RCPT TO/MAIL FROM lines for look-alikes "
                  "(one at a segment start, one dot-stuffed, one split across segments), the end-of-data "
                  "mark split across segments; none alert. A second transaction's RCPT does.")
    flow = TcpFlow(cap, (CLIENT, 40210), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<real@navy.ml>", OK_RCPT)
    cap.expect(flow, "real@navy.ml", "tld-swap", True)
    flow.cmd("DATA", "354 End data with <CR><LF>.<CR><LF>")
    flow.c("Subject: forwarded\r\n\r\nRCPT TO:<body@army.ml>\r\n")
    flow.c("RCPT TO:<segment@army.ml>\r\n..RCPT TO:<stuffed@army.ml>\r\nMAIL FROM:<m@army.ml>\r\nRCPT TO:<sp")
    flow.c("lit@amry.mil>\r\nQUIT\r\n\r\n.\r")
    flow.c("\n")
    flow.s("250 2.0.0 Ok: queued as 44DD\r\n")
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<after@amry.mil>", OK_RCPT)
    cap.expect(flow, "after@amry.mil", "transposition", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def linux_sll():
    cap = Capture("linux-sll", link=SllLink(), description="Linux cooked capture v1 (DLT_LINUX_SLL 113), "
                  "as 'tcpdump -i any' wrote before libpcap 1.10.")
    flow = TcpFlow(cap, (CLIENT, 40220), (SERVER, 25))
    simple_session(cap, flow, [("sll@army.ml", OK_RCPT, "tld-swap")])
    return cap


@case
def linux_sll2():
    cap = Capture("linux-sll2", link=Sll2Link(), nanosecond=True, description="Linux cooked capture v2 "
                  "(DLT_LINUX_SLL2 276) over IPv6, nanosecond-resolution pcap.")
    flow = TcpFlow(cap, ("2001:db8:10::20", 40230), ("2001:db8:25::25", 25))
    simple_session(cap, flow, [("sll2@navy.ml", NO_RCPT, "tld-swap"), ("sll2b@nvy.mil", OK_RCPT, "omission")])
    return cap


@case
def raw_ip():
    cap = Capture("raw-ip", link=RawIpLink(), description="Raw IP link type (DLT_RAW 101), IPv4.")
    flow = TcpFlow(cap, (CLIENT, 40240), (SERVER, 25))
    simple_session(cap, flow, [("raw@amry.mil", OK_RCPT, "transposition")])
    return cap


@case
def null_loopback():
    cap = Capture("null-loopback", link=NullLink(), description="BSD loopback link type (DLT_NULL 0, "
                  "little-endian address family), as tcpdump -i lo0 writes on macOS.")
    flow = TcpFlow(cap, ("127.0.0.1", 40245), ("127.0.0.1", 25))
    simple_session(cap, flow, [("lo@navy.ml", OK_RCPT, "tld-swap")])
    return cap


@case
def truncated_headers():
    cap = Capture("truncated-headers", snaplen=44, description="Captured with snaplen 44: every frame is cut "
                  "inside its TCP header. Nothing can be inspected; every frame is counted as truncated, "
                  "none alerts, replay still succeeds.")
    flow = TcpFlow(cap, (CLIENT, 40246), (SERVER, 25))
    simple_session(cap, flow, [("hidden@army.ml", OK_RCPT, None)])
    return cap


@case
def pcapng_file():
    cap = Capture("pcapng-session", file_format="pcapng", description="A pcapng file (SHB, one IDB with "
                  "if_tsresol 9, EPBs) holding a plain session.")
    flow = TcpFlow(cap, (CLIENT, 40250), (SERVER, 587))
    simple_session(cap, flow, [("ng@army.ml", OK_RCPT, "tld-swap"), ("ng2@examp1ebank.com", OK_RCPT, "homoglyph")])
    return cap


@case
def many_flows():
    cap = Capture("many-flows", description="48 SMTP sessions from 48 clients, their packets interleaved "
                  "round-robin; each sends one recipient from a cycle of look-alikes and non-alerts, "
                  "accepted or rejected alternately.")
    cycle = [("army.ml", "tld-swap"), ("example.com", None), ("amry.mil", "transposition"),
             ("army.mil", None), ("nvy.mil", "omission"), ("examplebank.co", None),
             ("navy.ml", "tld-swap"), ("armmy.mil", "repetition")]
    queues = []
    for index in range(48):
        queue = []
        flow = TcpFlow(cap, (f"192.0.2.{100 + index}", 41000 + index), (SERVER, 25), out=queue.append,
                       isn_client=1000 + 7919 * index, isn_server=5000 + 104729 * index)
        domain, kind = cycle[index % len(cycle)]
        address = f"user{index}@{domain}"
        reply = OK_RCPT if index % 2 == 0 else NO_RCPT
        simple_session(cap, flow, [(address, reply, kind)])
        queues.append(queue)
    position = 0
    while any(queues):
        for queue in queues:
            if len(queue) > position:
                cap.emit(queue[position])
        position += 1
        if all(len(queue) <= position for queue in queues):
            break
    return cap


@case
def rcpt_before_mail():
    cap = Capture("rcpt-before-mail", description="A RCPT TO before any MAIL FROM (503 from the server) is "
                  "still judged and alerts (rejected); then a normal transaction.")
    flow = TcpFlow(cap, (CLIENT, 40260), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("RCPT TO:<early@army.ml>", "503 5.5.1 Error: need MAIL command")
    cap.expect(flow, "early@army.ml", "tld-swap", False)
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<later@navy.ml>", OK_RCPT)
    cap.expect(flow, "later@navy.ml", "tld-swap", True)
    flow.data(message())
    flow.quit()
    return cap


@case
def rset():
    cap = Capture("rset", description="RSET ends a transaction; a new MAIL starts the next. The same look-alike "
                  "recipient in both transactions alerts once for the flow (one alert per flow and recipient).")
    flow = TcpFlow(cap, (CLIENT, 40270), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<one@army.ml>", OK_RCPT)
    cap.expect(flow, "one@army.ml", "tld-swap", True)
    flow.cmd("RSET", "250 2.0.0 Ok")
    flow.cmd("MAIL FROM:<bob@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<two@amry.mil>", OK_RCPT)
    cap.expect(flow, "two@amry.mil", "transposition", True)
    flow.cmd("RCPT TO:<one@army.ml>", OK_RCPT)
    flow.data(message())
    flow.quit()
    return cap


@case
def idle_expiry():
    cap = Capture("idle-expiry", description="A session whose server never answers the RCPT goes idle; "
                  "another session starts 400 s later, past the 300 s idle timeout, so the first flow "
                  "expires and its alert is written with accepted null before the capture ends.")
    flow = TcpFlow(cap, (CLIENT, 40290), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.c("RCPT TO:<idle@army.ml>\r\n")
    flow.ack("s")
    cap.expect(flow, "idle@army.ml", "tld-swap", None)
    cap.sleep(400)
    later = TcpFlow(cap, (CLIENT, 40291), (SERVER, 25))
    simple_session(cap, later, [("awake@nvy.mil", OK_RCPT, "omission")])
    return cap


@case
def noise():
    cap = Capture("noise", description="Traffic that is not TCP/SMTP around one SMTP session: ARP, LLDP, "
                  "UDP DNS, ICMP echo, GRE, an unknown ethertype, UDP to port 25 holding a RCPT line. Counted "
                  "and skipped; only the SMTP session alerts.")
    eth = cap.link
    cap.emit(p.ethernet(b"\xff" * 6, CLIENT_MAC, p.ETH_ARP,
                        struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + CLIENT_MAC +
                        p.ip_bytes(CLIENT) + b"\0" * 6 + p.ip_bytes(SERVER)))
    cap.emit(p.ethernet(p.mac("01:80:c2:00:00:0e"), CLIENT_MAC, p.ETH_LLDP,
                        b"\x02\x07\x04\x02\x00\x00\x00\x00\x0c\x04\x03\x05eth0\x06\x02\x00\x78\x00\x00"))
    dns = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x02mx\x07example\x03net\x00" + struct.pack("!HH", 1, 1)
    cap.emit(eth.wrap(p.ETH_IPV4, p.ipv4(CLIENT, "198.51.100.53", p.PROTO_UDP,
                                          p.udp(CLIENT, "198.51.100.53", 53000, 53, dns), ident=1), True))
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
    icmp = icmp[:2] + struct.pack("!H", p.checksum(icmp)) + icmp[4:]
    cap.emit(eth.wrap(p.ETH_IPV4, p.ipv4(CLIENT, SERVER, p.PROTO_ICMP, icmp, ident=2), True))
    gre = struct.pack("!HH", 0, 0x0800) + p.ipv4("10.0.0.1", "10.0.0.2", p.PROTO_ICMP, icmp, ident=3)
    cap.emit(eth.wrap(p.ETH_IPV4, p.ipv4(CLIENT, SERVER, p.PROTO_GRE, gre, ident=4), True))
    cap.emit(p.ethernet(SERVER_MAC, CLIENT_MAC, 0x88B5, b"local experimental ethertype"))
    cap.emit(eth.wrap(p.ETH_IPV4, p.ipv4(CLIENT, SERVER, p.PROTO_UDP,
                                          p.udp(CLIENT, SERVER, 40281, 25, b"RCPT TO:<udp@army.ml>\r\n"), ident=5), True))
    flow = TcpFlow(cap, (CLIENT, 40280), (SERVER, 25))
    simple_session(cap, flow, [("noise@army.ml", OK_RCPT, "tld-swap")])
    return cap


@case
def message_identity():
    cap = Capture("message-identity", description="Two delivered messages whose header blocks name them: DATA "
                  "with a folded, RFC 2047-encoded Subject, Message-ID, Date, X-Mailer, To and Cc lists; then "
                  "BDAT in two chunks that split the Subject line. Each transaction has one look-alike recipient: "
                  "the smtp record joined to its alert (flow_id, tx_id) carries the message's Subject and "
                  "Message-ID.")
    flow = TcpFlow(cap, (CLIENT, 40300), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<bob@army.ml>", OK_RCPT)
    cap.expect(flow, "bob@army.ml", "tld-swap", True)
    flow.data([
        "Received: from client.example.org by mx.example.net; Thu, 15 Jan 2026 09:00:00 +0000",
        "From: =?UTF-8?Q?Alice_Exampl=C3=A9?= <alice@example.org>",
        "To: Bob <bob@army.ml>, \"Ops, Team\" <ops@example.org>",
        "Cc: carol@example.org",
        "Subject: =?UTF-8?B?UXVhcnRlcmx5IGZpZ3VyZXMg4oCT?=",
        " Q4 draft",
        "Message-ID: <20260115090000.4F2A1@client.example.org>",
        "Date: Thu, 15 Jan 2026 09:00:00 +0000",
        "X-Mailer: Example Mail 7.1",
        "",
        "Subject: body text is not a header",
        "regards",
    ])
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<dave@amry.mil>", OK_RCPT)
    cap.expect(flow, "dave@amry.mil", "transposition", True)
    chunk1 = b"From: alice@example.org\r\nTo: dave@amry.mil\r\nSubj"
    chunk2 = b"ect: Second message\r\nMessage-ID: <second@client.example.org>\r\n\r\nHello\r\n"
    flow.c(b"BDAT %d\r\n" % len(chunk1) + chunk1)
    flow.s("250 2.0.0 Ok: %d octets received\r\n" % len(chunk1))
    flow.c(b"BDAT %d LAST\r\n" % len(chunk2) + chunk2)
    flow.s("250 2.0.0 Ok: queued as 4F2A2\r\n")
    flow.quit()
    return cap



@case
def header_impersonation():
    cap = Capture("header-impersonation", description="Impersonation coming in: an inbound message whose "
                  "MAIL FROM and recipient are clean, but whose From: header (folded, two authors, a quoted "
                  "comma in one display name, an RFC 2047 display name) names support@army.ml and whose "
                  "Reply-To: names billing@amry.mil: a header-from and a reply-to alert, written at the end "
                  "of the header block. A second message on the flow names army.ml again in From: (recorded "
                  "in its smtp record, not alerted again) and a look-alike only inside a display name (no alert).")
    flow = TcpFlow(cap, (CLIENT, 40310), (SERVER, 25))
    flow.handshake()
    flow.greet(helo="relay.example.net")
    flow.cmd("MAIL FROM:<bounces@relay.example.net>", OK_MAIL)
    flow.cmd("RCPT TO:<finance@army.mil>", OK_RCPT)
    flow.data([
        "Received: from relay.example.net by mx.army.mil; Thu, 15 Jan 2026 09:00:00 +0000",
        "From: \"Accounts, Payable\" <ap@example.org>,",
        " =?UTF-8?Q?Army_Support_=E2=80=93_HQ?= <support@army.ml>",
        "Reply-To: =?UTF-8?B?QmlsbGluZw==?= <billing@amry.mil>",
        "To: finance@army.mil",
        "Subject: Invoice 4711 overdue",
        "Message-ID: <4711.overdue@relay.example.net>",
        "",
        "Reply-To: not-a-header@nvy.mil",
        "Please pay today.",
    ])
    cap.expect_role(flow, "header-from", "army.ml", "tld-swap")
    cap.expect_role(flow, "reply-to", "amry.mil", "transposition")
    flow.cmd("MAIL FROM:<bounces@relay.example.net>", OK_MAIL)
    flow.cmd("RCPT TO:<finance@army.mil>", OK_RCPT)
    flow.data([
        "From: Support <help@hq.army.ml>",
        "Reply-To: \"billing@nvy.mil\" <billing@example.org>",
        "Subject: Reminder",
        "",
        "regards",
    ])
    flow.quit()
    return cap


# --- DNS and the connections that follow ---------------------------------------------------------

RESOLVER = "192.0.2.53"
LOOKALIKE_MX = "203.0.113.53"   # what army.ml's MX answer says its mail exchanger is
PROTECTED_MX = "198.51.100.7"   # army.mil's own


@case
def dns_queries():
    cap = Capture("dns-queries", description="DNS over UDP and TCP (name compression in every answer): "
                  "questions for look-alikes and names under them alert once per flow and name with the "
                  "response code; protected and unrelated names, and malformed messages, never alert.")
    flow = UdpFlow(cap, (CLIENT, 53001), (RESOLVER, 53))
    flow.c(dns.query(0x1a2b, "army.ml", dns.MX))
    flow.s(dns.response(0x1a2b, "army.ml", dns.MX, answers=[dns.rr("army.ml", dns.MX, 300, dns.mx(10, "mx1.army.ml"))],
                        additional=[dns.rr("mx1.army.ml", dns.A, 300, dns.a(LOOKALIKE_MX))]))
    cap.expect_role(flow, "dns-query", "army.ml", "tld-swap", "NOERROR")
    flow = UdpFlow(cap, (CLIENT, 53002), (RESOLVER, 53))
    flow.c(dns.query(0x0101, "MX1.Army.ML", dns.A))  # case is no disguise; the alert gives the canonical name
    flow.s(dns.response(0x0101, "MX1.Army.ML", dns.A, answers=[dns.rr("MX1.Army.ML", dns.A, 300, dns.a(LOOKALIKE_MX))]))
    cap.expect_role(flow, "dns-query", "mx1.army.ml", "tld-swap", "NOERROR")
    flow = UdpFlow(cap, (CLIENT, 53003), (RESOLVER, 53))
    flow.c(dns.query(0x0042, "mail.amry.mil", dns.AAAA))
    flow.s(dns.response(0x0042, "mail.amry.mil", dns.AAAA, rcode=dns.NXDOMAIN,
                        authority=[dns.rr("amry.mil", dns.SOA, 900, dns.soa("ns.amry.mil", "hostmaster.amry.mil"))]))
    cap.expect_role(flow, "dns-query", "mail.amry.mil", "transposition", "NXDOMAIN")
    # The same name asked twice on one flow (a stub resolver on a fixed port): one alert.
    flow = UdpFlow(cap, (CLIENT, 53004), (RESOLVER, 53))
    flow.c(dns.query(0x0201, "navy.ml", dns.A))
    flow.s(dns.response(0x0201, "navy.ml", dns.A, rcode=dns.SERVFAIL))
    flow.c(dns.query(0x0202, "navy.ml", dns.A))
    flow.s(dns.response(0x0202, "navy.ml", dns.A, answers=[dns.rr("navy.ml", dns.A, 60, dns.a("203.0.113.60"))]))
    cap.expect_role(flow, "dns-query", "navy.ml", "tld-swap", "SERVFAIL")
    # Protected and unrelated names never alert.
    flow = UdpFlow(cap, (CLIENT, 53005), (RESOLVER, 53))
    flow.c(dns.query(0x0301, "army.mil", dns.MX))
    flow.s(dns.response(0x0301, "army.mil", dns.MX, answers=[dns.rr("army.mil", dns.MX, 300, dns.mx(10, "mx.army.mil"))]))
    flow.c(dns.query(0x0302, "www.example.net", dns.A))
    flow.s(dns.response(0x0302, "www.example.net", dns.A, answers=[
        dns.rr("www.example.net", dns.CNAME, 300, dns.name_rdata("army.ml.example.net")),
        dns.rr("army.ml.example.net", dns.A, 300, dns.a("192.0.2.80"))]))
    # A malformed query (a compression pointer to itself where the name should be): counted, never alerted.
    flow = UdpFlow(cap, (CLIENT, 53006), (RESOLVER, 53))
    flow.c(struct.pack("!HHHHHH", 0x0401, 0x0100, 1, 0, 0, 0) + b"\x04army\x02ml\xc0\x11" + struct.pack("!HH", 1, 1))
    # DNS over TCP: the query split across two segments, the answer in one.
    flow = TcpFlow(cap, (CLIENT, 40300), (RESOLVER, 53))
    flow.handshake()
    framed = dns.tcp_framed(dns.query(0x0501, "nvy.mil", dns.MX))
    flow.c(framed[:7])
    flow.c(framed[7:])
    flow.s(dns.tcp_framed(dns.response(0x0501, "nvy.mil", dns.MX, answers=[dns.rr("nvy.mil", dns.MX, 300, dns.mx(5, "mail.nvy.mil"))])))
    flow.close()
    cap.expect_role(flow, "dns-query", "nvy.mil", "omission", "NOERROR")
    # IPv6, no answer in the capture: the alert comes at the end of the flow, without a response code.
    flow = UdpFlow(cap, ("2001:db8::10", 53007), ("2001:db8::53", 53))
    flow.c(dns.query(0x0601, "armmy.mil", dns.AAAA))
    cap.expect_role(flow, "dns-query", "armmy.mil", "repetition", None)
    return cap


@case
def dns_mx_starttls():
    cap = Capture("dns-mx-starttls", description="The encrypted-envelope case: an MX look-up for army.ml "
                  "answered with mx1.army.ml at 203.0.113.53, then a STARTTLS session to that address whose "
                  "recipients are never on the wire: a dns-query alert and a dns-learned alert (the TLS "
                  "server name is the same look-alike, recorded, not alerted again). A plaintext session to "
                  "the same address alerts per recipient only; sessions to an address learned for army.mil, "
                  "or learned with a TTL that has run out, never alert.")
    lookup = UdpFlow(cap, (CLIENT, 53100), (RESOLVER, 53))
    lookup.c(dns.query(0x7001, "army.ml", dns.MX))
    lookup.s(dns.response(0x7001, "army.ml", dns.MX,
                          answers=[dns.rr("army.ml", dns.MX, 3600, dns.mx(10, "mx1.army.ml")),
                                   dns.rr("army.ml", dns.MX, 3600, dns.mx(20, "mx2.army.ml"))],
                          additional=[dns.rr("mx1.army.ml", dns.A, 300, dns.a(LOOKALIKE_MX)),
                                      dns.rr("mx2.army.ml", dns.A, 1, dns.a("203.0.113.54"))]))
    cap.expect_role(lookup, "dns-query", "army.ml", "tld-swap", "NOERROR")
    own = UdpFlow(cap, (CLIENT, 53101), (RESOLVER, 53))
    own.c(dns.query(0x7002, "army.mil", dns.MX))
    own.s(dns.response(0x7002, "army.mil", dns.MX, answers=[dns.rr("army.mil", dns.MX, 3600, dns.mx(10, "mx.army.mil"))],
                       additional=[dns.rr("mx.army.mil", dns.A, 3600, dns.a(PROTECTED_MX))]))
    cap.sleep(2)  # mx2.army.ml's one-second TTL runs out

    flow = TcpFlow(cap, (CLIENT, 40400), (LOOKALIKE_MX, 25))
    flow.handshake()
    flow.greet(banner="220 mx1.army.ml ESMTP\r\n")
    flow.cmd("STARTTLS", "220 2.0.0 Ready to start TLS")
    cap.expect_role(flow, "dns-learned", "army.ml", "tld-swap")
    hello = tls_client_hello_13(b"mx1.army.ml")
    flow.c(hello[:40])  # the ClientHello across two segments
    flow.c(hello[40:])
    flow.s(tls_server_hello())
    flow.c(tls_application_data(b"\x8f\x11encrypted envelope\x00\x01"))
    flow.s(tls_application_data(b"\x2a\x07encrypted reply\x00\x02"))
    flow.close()

    plain = TcpFlow(cap, (CLIENT, 40401), (LOOKALIKE_MX, 25))
    simple_session(cap, plain, [("clerk@army.ml", OK_RCPT, "tld-swap")])

    expired = TcpFlow(cap, (CLIENT, 40402), ("203.0.113.54", 25))
    expired.handshake()
    expired.greet()
    expired.cmd("STARTTLS", "220 2.0.0 Ready to start TLS")
    expired.c(tls_client_hello(b"mx.example.net"))
    expired.close()

    protected = TcpFlow(cap, (CLIENT, 40403), (PROTECTED_MX, 25))
    protected.handshake()
    protected.greet()
    protected.cmd("STARTTLS", "220 2.0.0 Ready to start TLS")
    protected.c(tls_client_hello(b"mx.army.mil"))
    protected.close()
    return cap


@case
def lmtp():
    cap = Capture("lmtp", description="LMTP (RFC 2033) from a mail hub to a mailbox store. Port 24: LHLO, "
                  "pipelined RCPTs (one refused at RCPT), DATA answered once per accepted recipient in RCPT "
                  "order - one delivered, one refused after the content (552 mailbox full), one protected; "
                  "then BDAT LAST answered per recipient (451 for the look-alike). Port 7024: LMTP found by "
                  "behaviour (220, LHLO), one look-alike delivered. Alerts carry each recipient's delivery.")
    store = "203.0.113.40"
    flow = TcpFlow(cap, ("192.0.2.30", 40400), (store, 24))
    flow.handshake()
    flow.s("220 store.example.net LMTP Cyrus v3 ready\r\n")
    flow.c("LHLO hub.example.org\r\n")
    flow.s("250-store.example.net\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250 8BITMIME\r\n")
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.c("RCPT TO:<bob@army.ml>\r\nRCPT TO:<carol@amry.mil>\r\nRCPT TO:<dave@army.mil>\r\n"
           "RCPT TO:<erin@nvy.mil>\r\n")
    flow.s(f"{OK_RCPT}\r\n{OK_RCPT}\r\n{OK_RCPT}\r\n{NO_RCPT}\r\n")
    cap.expect(flow, "erin@nvy.mil", "omission", False, delivered=None)
    flow.cmd("DATA", "354 Go ahead")
    flow.c("".join(line + "\r\n" for line in message("lmtp")) + ".\r\n")
    flow.s("250 2.1.5 <bob@army.ml> Ok SESSIONID=<store-1>\r\n"
           "552 5.2.2 <carol@amry.mil> Over quota SESSIONID=<store-1>\r\n"
           "250 2.1.5 <dave@army.mil> Ok SESSIONID=<store-1>\r\n")
    cap.expect(flow, "bob@army.ml", "tld-swap", True, delivered=True)
    cap.expect(flow, "carol@amry.mil", "transposition", True, delivered=False)
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    flow.cmd("RCPT TO:<frank@navy.ml>", OK_RCPT)
    flow.cmd("RCPT TO:<grace@navy.mil>", OK_RCPT)
    chunk = "".join(line + "\r\n" for line in message("chunked")).encode()
    flow.c(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    flow.s("451 4.2.0 <frank@navy.ml> Mailbox busy, try again\r\n250 2.1.5 <grace@navy.mil> Ok\r\n")
    cap.expect(flow, "frank@navy.ml", "tld-swap", True, delivered=False)
    flow.quit()

    other = TcpFlow(cap, ("192.0.2.30", 40401), (store, 7024))
    other.handshake()
    other.s("220 store.example.net LMTP ready\r\n")
    other.c("LHLO hub.example.org\r\n")
    other.s("250-store.example.net\r\n250 PIPELINING\r\n")
    other.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    other.cmd("RCPT TO:<heidi@armmy.mil>", OK_RCPT)
    other.cmd("DATA", "354 Go ahead")
    other.c("".join(line + "\r\n" for line in message("by behaviour")) + ".\r\n")
    other.s("250 2.1.5 <heidi@armmy.mil> Ok\r\n")
    cap.expect(other, "heidi@armmy.mil", "repetition", True, delivered=True)
    other.quit()
    return cap


@case
def percent_hack():
    cap = Capture("percent-hack", description="The percent hack: RCPT TO:<user%army.ml@relay> is delivered to "
                  "army.ml by relays that honour it, so the domain after the last % is judged when the "
                  "address's own is no look-alike (alerts say so in misdirect.judged); the protected domain "
                  "itself (ops%army.mil@relay) and a next hop that is no look-alike stay silent; a quoted "
                  "local part; two hops; the address's own look-alike domain wins; a repeat alerts once.")
    relay = "relay.example.net"
    flow = TcpFlow(cap, (CLIENT, 40410), (SERVER, 25))
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)

    def judged(domain):
        return {"domain": domain, "reason": "percent-hack", "relay": relay}

    flow.cmd(f"RCPT TO:<user%army.ml@{relay}>", OK_RCPT)
    cap.expect(flow, f"user%army.ml@{relay}", "tld-swap", True, judged=judged("army.ml"))
    flow.cmd(f"RCPT TO:<ops%army.mil@{relay}>", OK_RCPT)            # the protected domain itself
    flow.cmd(f"RCPT TO:<ops%example.org@{relay}>", OK_RCPT)         # no look-alike
    flow.cmd(f"RCPT TO:<\"q%navy.ml\"@{relay}>", NO_RCPT)
    cap.expect(flow, f"\"q%navy.ml\"@{relay}", "tld-swap", False, judged=judged("navy.ml"))
    flow.cmd(f"RCPT TO:<two%hop.example%nvy.mil@{relay}>", OK_RCPT)  # the last % is the next hop
    cap.expect(flow, f"two%hop.example%nvy.mil@{relay}", "omission", True, judged=judged("nvy.mil"))
    flow.cmd("RCPT TO:<bob%army.ml@amry.mil>", OK_RCPT)             # the address's own domain alerts
    cap.expect(flow, "bob%army.ml@amry.mil", "transposition", True)
    flow.cmd(f"RCPT TO:<USER%army.ml@{relay}>", OK_RCPT)             # the same recipient again
    flow.data(message())
    flow.quit()
    return cap


# --- error cases (not SMTP: files that replay must refuse or stop on) -------------------------

def error_files():
    """{relative path: bytes} for the error-case files under pcaps/errors/."""
    frame = p.ethernet(SERVER_MAC, SERVER_MAC, p.ETH_IPV4, b"\x45" + b"\0" * 40)
    return {
        "errors/unknown-linktype.pcap": classic_pcap([Record(1_768_467_600_000_000_000, frame)], LINKTYPE_USER0),
        "errors/corrupt.pcap": b"this is not a capture file, whatever its name says\n" * 4,
    }


def demo_capture():
    """pcaps/demo/lookalikes.pcap for scripts/demo: the plain session, pipelining and every kind,
    one after another (a minute apart) in one file."""
    demo = Capture("demo/lookalikes", description="scripts/demo: plain-session, pipelining and kinds in one file.")
    shift_ns = 0
    for make in (plain_session, pipelining, kinds):
        part = make()
        for record in part.records:
            demo.records.append(Record(record.timestamp_ns + shift_ns, record.frame, record.caplen))
        demo.expected.extend(part.expected)
        shift_ns += 60 * 1_000_000_000
    return demo
