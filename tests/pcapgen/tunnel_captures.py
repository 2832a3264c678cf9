"""Tunnelled captures: SMTP sessions inside each encapsulation the decoder opens (issue 13), and
the flow-keying cases (two tenants with one inner 5-tuple, one flow whose two directions come from
different outer sources). Expected alerts name the tunnel identity that keys their flow
("vxlan:100"); tests/e2e/test_pcap_tunnels.py also has tshark decode the inner SMTP of each.
"""
from capture import Capture, TcpFlow
from captures import OK_MAIL, OK_RCPT, NO_RCPT, case
from tunnels import InnerEthernet, Outer, TunnelLink, Vxlan

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
