"""Tunnelled captures: SMTP sessions inside each encapsulation the decoder opens (issue 13), and
the flow-keying cases (two tenants with one inner 5-tuple, one flow whose two directions come from
different outer sources). Expected alerts name the tunnel identity that keys their flow
("vxlan:100"); tests/e2e/test_pcap_tunnels.py also has tshark decode the inner SMTP of each.
"""
from capture import Capture, TcpFlow
from captures import OK_MAIL, OK_RCPT, NO_RCPT, case
from tunnels import ErspanII, ErspanIII, Geneve, Gre, InnerEthernet, IpInIp, Mpls, Outer, Pppoe, TunnelLink, Vxlan

TENANT_CLIENT = "10.0.0.5"
TENANT_SERVER = "10.0.0.25"
MIRROR = "192.0.2.10"
SENSOR = "192.0.2.99"


def session(cap, flow, recipients, tunnel=None):
    """Handshake, EHLO, one transaction with `recipients` [(address, reply, kind)], QUIT."""
    flow.handshake()
    flow.greet()
    flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
    for address, reply, kind in recipients:
        flow.cmd(f"RCPT TO:<{address}>", reply)
        if kind:
            cap.expect(flow, address, kind, reply.startswith("2"), tunnel=tunnel)
    flow.quit()


def interleave(*streams):
    """Frames of several flows, taken one from each in turn."""
    out = []
    for index in range(max(len(s) for s in streams)):
        out += [s[index] for s in streams if index < len(s)]
    return out


@case
def vxlan_tenants():
    cap = Capture("vxlan-tenants", description="A cloud mirror's VXLAN (one outer address pair, UDP 4789): "
                  "two tenants (VNI 100 and 200) with the same inner 10.0.0.5:40001 -> 10.0.0.25:25, their "
                  "packets interleaved, are two flows.")
    mirror = Outer((MIRROR, SENSOR))
    streams = []
    for vni, recipient, reply, kind in ((100, "tenant-a@army.ml", OK_RCPT, "tld-swap"),
                                        (200, "tenant-b@amry.mil", NO_RCPT, "transposition")):
        frames = []
        link = TunnelLink([InnerEthernet(), Vxlan(vni, mirror)])
        flow = TcpFlow(cap, (TENANT_CLIENT, 40001), (TENANT_SERVER, 25), link=link, out=frames.append,
                       isn_client=1000 * vni)
        session(cap, flow, [(recipient, reply, kind)], tunnel=f"vxlan:{vni}")
        streams.append(frames)
    for frame in interleave(*streams):
        cap.emit(frame)

    return cap


# --- one capture per encapsulation ---------------------------------------------------------------

TENANT6_CLIENT = "2001:db8:10::5"
TENANT6_SERVER = "2001:db8:10::25"
GENEVE_OPTIONS = ((0x0103, 0x80, bytes(range(8))), (0x0104, 0x01, b"\xde\xad\xbe\xef"))


def tunnelled_session(cap, link, port, recipient, kind, tunnel=None, v6=False, reply=OK_RCPT):
    """One SMTP session from the tenant's client port `port`, through `link`."""
    client, server = (TENANT6_CLIENT, TENANT6_SERVER) if v6 else (TENANT_CLIENT, TENANT_SERVER)
    flow = TcpFlow(cap, (client, port), (server, 25), link=link, isn_client=port * 10)
    session(cap, flow, [(recipient, reply, kind)], tunnel=tunnel)


@case
def tunnel_vxlan_ipv6():
    cap = Capture("tunnel-vxlan-ipv6", description="VXLAN (VNI 4242) in an IPv6 outer packet on a frame the mirror "
                  "tagged with VLAN 30; the tenant's own frame is tagged VLAN 7, which is the flow's.")
    link = TunnelLink([InnerEthernet(vlans=((0x8100, 7),)), Vxlan(4242, Outer(("2001:db8:ee::1", "2001:db8:ee::99")))],
                      vlans=((0x8100, 30),))
    tunnelled_session(cap, link, 41001, "v6mirror@army.ml", "tld-swap", tunnel="vxlan:4242")
    return cap


@case
def tunnel_geneve():
    cap = Capture("tunnel-geneve", description="GENEVE on UDP 6081 with two option TLVs (12 bytes), as a cloud "
                  "load balancer or mirror sends it: VNI 5001 carrying an Ethernet frame, VNI 5002 an IPv4 "
                  "packet, VNI 5003 an IPv6 packet.")
    outer = Outer((MIRROR, SENSOR))
    tunnelled_session(cap, TunnelLink([InnerEthernet(), Geneve(5001, outer, GENEVE_OPTIONS)]), 41101,
                      "geneve-eth@army.ml", "tld-swap", tunnel="geneve:5001")
    tunnelled_session(cap, TunnelLink([Geneve(5002, outer, GENEVE_OPTIONS)]), 41102,
                      "geneve-v4@amry.mil", "transposition", tunnel="geneve:5002")
    tunnelled_session(cap, TunnelLink([Geneve(5003, outer, GENEVE_OPTIONS)]), 41103,
                      "geneve-v6@navy.ml", "tld-swap", tunnel="geneve:5003", v6=True)
    return cap


@case
def tunnel_erspan_ii():
    cap = Capture("tunnel-erspan-ii", description="ERSPAN type II (GRE 0x88be with sequence numbers, session 100) "
                  "from a switch's mirror session, on an outer frame tagged VLAN 900.")
    link = TunnelLink([InnerEthernet(), ErspanII(100, Outer(("10.1.1.1", SENSOR)), vlan=12)], vlans=((0x8100, 900),))
    tunnelled_session(cap, link, 41201, "erspan2@army.ml", "tld-swap", tunnel="erspan:100")
    return cap


@case
def tunnel_erspan_iii():
    cap = Capture("tunnel-erspan-iii", description="ERSPAN type III (GRE 0x22eb): session 200 without the "
                  "platform-specific sub-header, session 201 with it (O bit, platform id 3).")
    outer = Outer(("10.1.1.2", SENSOR))
    tunnelled_session(cap, TunnelLink([InnerEthernet(), ErspanIII(200, outer, platform=False)]), 41301,
                      "erspan3@army.ml", "tld-swap", tunnel="erspan:200")
    tunnelled_session(cap, TunnelLink([InnerEthernet(), ErspanIII(201, outer, platform=True)]), 41302,
                      "erspan3-platform@nvy.mil", "omission", tunnel="erspan:201")
    return cap


@case
def tunnel_gre():
    cap = Capture("tunnel-gre", description="GRE with key and sequence number: key 10 carrying an Ethernet frame "
                  "(0x6558), key 11 an IPv4 packet (with the GRE checksum too), key 12 an IPv6 packet over an "
                  "IPv6 outer packet. The router's two ends are the outer addresses, reversed per direction.")
    v4 = Outer(("203.0.113.1", "203.0.113.2"), ("203.0.113.2", "203.0.113.1"))
    v6 = Outer(("2001:db8:ff::1", "2001:db8:ff::2"), ("2001:db8:ff::2", "2001:db8:ff::1"))
    tunnelled_session(cap, TunnelLink([InnerEthernet(), Gre(v4, key=10, sequence=True)]), 41401,
                      "gre-eth@army.ml", "tld-swap", tunnel="gre:10")
    tunnelled_session(cap, TunnelLink([Gre(v4, key=11, sequence=True, checksum=True)]), 41402,
                      "gre-v4@amry.mil", "transposition", tunnel="gre:11")
    tunnelled_session(cap, TunnelLink([Gre(v6, key=12, sequence=True)]), 41403,
                      "gre-v6@armmy.mil", "repetition", tunnel="gre:12", v6=True)
    return cap


@case
def tunnel_mpls():
    cap = Capture("tunnel-mpls", description="MPLS on Ethernet, labels different per direction (no tunnel id: "
                  "labels do not key flows): two labels over IPv4; one label over IPv6; an Ethernet pseudowire "
                  "with the RFC 4385 control word; an Ethernet pseudowire without it.")
    tunnelled_session(cap, TunnelLink([Mpls([16, 1000], [17, 2000])]), 41501, "mpls-v4@army.ml", "tld-swap")
    tunnelled_session(cap, TunnelLink([Mpls([1001], [2001])]), 41502, "mpls-v6@navy.ml", "tld-swap", v6=True)
    tunnelled_session(cap, TunnelLink([InnerEthernet(), Mpls([18, 3000], [19, 4000], control_word=True)]), 41503,
                      "mpls-pw-cw@amry.mil", "transposition")
    tunnelled_session(cap, TunnelLink([InnerEthernet(), Mpls([3001], [4001])]), 41504,
                      "mpls-pw@nvy.mil", "omission")
    return cap


@case
def tunnel_pppoe():
    cap = Capture("tunnel-pppoe", description="PPPoE sessions behind an 802.1Q tag (VLAN 100, the subscriber's "
                  "line, part of the flow): session 0x1234 carrying IPv4, session 0x1235 IPv6.")
    tag = ((0x8100, 100),)
    tunnelled_session(cap, TunnelLink([Pppoe(0x1234)], vlans=tag), 41601, "pppoe-v4@army.ml", "tld-swap")
    tunnelled_session(cap, TunnelLink([Pppoe(0x1235)], vlans=tag), 41602, "pppoe-v6@amry.mil", "transposition",
                      v6=True)
    return cap


@case
def tunnel_ip_in_ip():
    cap = Capture("tunnel-ip-in-ip", description="IP in IP: 4in4 (protocol 4), 6in4 (protocol 41), 4in6 as DS-Lite "
                  "carries a subscriber's IPv4, and 6in6.")
    v4 = Outer(("203.0.113.1", "203.0.113.2"), ("203.0.113.2", "203.0.113.1"))
    v6 = Outer(("2001:db8:ff::1", "2001:db8:ff::2"), ("2001:db8:ff::2", "2001:db8:ff::1"))
    tunnelled_session(cap, TunnelLink([IpInIp(v4)]), 41701, "four-in-four@army.ml", "tld-swap")
    tunnelled_session(cap, TunnelLink([IpInIp(v4)]), 41702, "six-in-four@navy.ml", "tld-swap", v6=True)
    tunnelled_session(cap, TunnelLink([IpInIp(v6)]), 41703, "ds-lite@amry.mil", "transposition")
    tunnelled_session(cap, TunnelLink([IpInIp(v6)]), 41704, "six-in-six@nvy.mil", "omission", v6=True)
    return cap


@case
def tunnel_nesting():
    cap = Capture("tunnel-nesting", description="Nesting at and past the depth bound (4): VXLAN 61 in GRE (key 62) "
                  "in IPv4-in-IPv4 under MPLS is 4 encapsulations and alerts (keyed by the innermost id, the "
                  "VNI); the same with one more IP-in-IP layer is 5: every packet dropped and counted.")
    def layers(vni, key, extra_ip_layers):
        stack = [InnerEthernet(), Vxlan(vni, Outer(("172.16.0.1", "172.16.0.2"))),
                 Gre(Outer(("172.17.0.1", "172.17.0.2")), key=key)]
        stack += [IpInIp(Outer((f"172.18.{n}.1", f"172.18.{n}.2"))) for n in range(extra_ip_layers)]
        return stack + [Mpls([20], [21])]
    tunnelled_session(cap, TunnelLink(layers(61, 62, 1)), 41801, "deep@army.ml", "tld-swap", tunnel="vxlan:61")
    too_deep = TcpFlow(cap, (TENANT_CLIENT, 41802), (TENANT_SERVER, 25), link=TunnelLink(layers(63, 64, 2)))
    session(cap, too_deep, [("too-deep@amry.mil", OK_RCPT, None)])  # never seen: no alert
    return cap


@case
def tunnel_erspan_fragmented():
    cap = Capture("tunnel-erspan-fragmented", description="ERSPAN type II (session 300) whose outer IPv4 packets "
                  "were cut into 48-byte fragments on the way to the sensor (each inner packet arrives in "
                  "several frames): the outer datagram is reassembled before the tunnel is opened.")
    link = TunnelLink([InnerEthernet(), ErspanII(300, Outer(("10.1.1.3", SENSOR)))], vlans=((0x8100, 901),),
                      fragment_outer=48)
    tunnelled_session(cap, link, 41901, "fragmented-mirror@army.ml", "tld-swap", tunnel="erspan:300")
    return cap



@case
def vxlan_mirror_flows():
    cap = Capture("vxlan-mirror-flows", description="One cloud mirror's VXLAN (VNI 300, one outer address pair): "
                  "sixteen tenant SMTP sessions from 10.0.1.1-16 to 10.0.0.25, interleaved, and a seventeenth "
                  "whose replies a second mirror (192.0.2.11) delivers. A hash of the outer header puts them all "
                  "on one worker; the software fan-out's inner-flow hash spreads them (the 2-worker DPDK test).")
    mirror = Outer((MIRROR, SENSOR))
    streams = []
    for host in range(1, 17):
        frames = []
        link = TunnelLink([InnerEthernet(), Vxlan(300, mirror)])
        flow = TcpFlow(cap, (f"10.0.1.{host}", 42000 + host), (TENANT_SERVER, 25), link=link, out=frames.append,
                       isn_client=5000 + host)
        session(cap, flow, [(f"tenant{host:02d}@army.ml", OK_RCPT, "tld-swap")], tunnel="vxlan:300")
        streams.append(frames)
    frames = []
    split = TunnelLink([InnerEthernet(), Vxlan(300, Outer((MIRROR, SENSOR), ("192.0.2.11", SENSOR)))])
    flow = TcpFlow(cap, ("10.0.1.17", 42017), (TENANT_SERVER, 25), link=split, out=frames.append, isn_client=5017)
    session(cap, flow, [("split-mirrors@navy.ml", OK_RCPT, "tld-swap")], tunnel="vxlan:300")
    streams.append(frames)
    for frame in interleave(*streams):
        cap.emit(frame)
    return cap


class FragmentOrder:
    """Hands a flow's frames on, changing the order of its outer fragments as a mirror's path may.
    Each packet the link cut in pieces gets a number, from `start` + 1: numbers 3n+1 keep their
    order, 3n+2 have their first fragment last, 3n+3 have it after the flow's next packet.
    (`start` varies which packet of a flow gets which.)"""

    def __init__(self, out, start=0):
        self.out = out
        self.cut = start
        self.deferred = None

    def __call__(self, frame):
        pieces = frame if isinstance(frame, list) else [frame]
        later = self.deferred
        self.deferred = None
        if len(pieces) > 1:
            self.cut += 1
            if self.cut % 3 == 2:
                pieces = pieces[1:] + pieces[:1]
            elif self.cut % 3 == 0:
                self.deferred = pieces[0]
                pieces = pieces[1:]
        self.out(pieces)
        if later is not None:
            self.out([later])

    def finish(self):
        if self.deferred is not None:
            self.out([self.deferred])
            self.deferred = None


LONG_EHLO_REPLY = ("250-mx.example.net greets client.example.org\r\n" +
                   "".join(f"250-X-EXTENSION-{index:02d} {'parameter ' * 6}\r\n" for index in range(16)) +
                   "250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n")


@case
def vxlan_mirror_fragments():
    cap = Capture("vxlan-mirror-fragments", description="One cloud mirror's VXLAN (VNI 310, one outer address "
                  "pair) over a path whose MTU fits 1024 bytes of outer IP payload: eight tenant SMTP sessions "
                  "from 10.0.3.1-8 to 10.0.0.25, interleaved, in which only the large packets (a long EHLO "
                  "reply, the message) are outer-fragmented. Of those, one in three has its first fragment "
                  "last, one in three after the flow's next packet. The fan-out must send every fragment to "
                  "the worker of its inner flow: replay --workers 2 and 3 give the records of --workers 1.")
    mirror = Outer((MIRROR, SENSOR), ident_base=0x7100)
    link = TunnelLink([InnerEthernet(), Vxlan(310, mirror)], fragment_outer=1024)
    streams = []
    for host in range(1, 9):
        frames = []
        order = FragmentOrder(frames.append, start=host % 3)
        flow = TcpFlow(cap, (f"10.0.3.{host}", 43000 + host), (TENANT_SERVER, 25), link=link, out=order,
                       isn_client=7000 + host)
        flow.handshake()
        flow.s("220 mx.example.net ESMTP ready\r\n")
        flow.c("EHLO client.example.org\r\n")
        flow.s(LONG_EHLO_REPLY)
        flow.cmd("MAIL FROM:<alice@example.org>", OK_MAIL)
        recipient = f"fragmented{host:02d}@army.ml"
        flow.cmd(f"RCPT TO:<{recipient}>", OK_RCPT)
        cap.expect(flow, recipient, "tld-swap", True, tunnel="vxlan:310")
        # The message in three segments of about 1.4 KB: each cut in two.
        flow.cmd("DATA", "354 End data with <CR><LF>.<CR><LF>")
        lines = [f"Subject: report {host}", ""] + [f"line {line:03d} of the report from host {host}, " + "x" * 40
                                                   for line in range(60)]
        for part in range(3):
            chunk = "".join(line + "\r\n" for line in lines[part * 20:(part + 1) * 20 + (2 if part == 2 else 0)])
            flow.c(chunk + (".\r\n" if part == 2 else ""))
        flow.s("250 2.0.0 Ok: queued as 4F2A1\r\n")
        flow.quit()
        order.finish()
        streams.append(frames)
    for frame in interleave(*streams):
        cap.emit(frame)
    return cap
