"""Tunnelled captures (issue 13): tshark agrees they are what they claim (checksums right, the
inner SMTP of every flow decoded); the tunnel flags of replay (--vxlan-ports, --geneve-ports,
--max-encapsulation-depth) change what is opened, and a bad combination is refused with a message
that names it and no records.
"""
import glob
import os
import shutil
import subprocess
import unittest

import misdirect_e2e as e2e

VXLAN_TENANTS = os.path.join(e2e.PCAPS, "vxlan-tenants.pcap")


def setUpModule():
    e2e.require_binary()


class TunnelFlagsTest(unittest.TestCase):
    def test_vxlan_is_opened_on_the_ports_given(self):
        default = e2e.run_replay([VXLAN_TENANTS])
        self.assertEqual(default.returncode, 0, default.stderr)
        self.assertEqual(len(default.alerts), 2)
        elsewhere = e2e.run_replay([VXLAN_TENANTS], extra=["--vxlan-ports", "8472"])
        self.assertEqual(elsewhere.returncode, 0, elsewhere.stderr)
        self.assertEqual(elsewhere.alerts, [])
        both = e2e.run_replay([VXLAN_TENANTS], extra=["--vxlan-ports=8472,4789"])
        self.assertEqual(len(both.alerts), 2)

    def test_the_depth_bound_drops_deeper_packets(self):
        # One VXLAN layer is within a bound of 1: the bound counts encapsulations, not headers.
        replay = e2e.run_replay([VXLAN_TENANTS], extra=["--max-encapsulation-depth", "1"])
        self.assertEqual(len(replay.alerts), 2)
        # tunnel-nesting's first flow has 4 layers (alerts at the default bound), its second 5.
        nesting = os.path.join(e2e.PCAPS, "tunnel-nesting.pcap")
        default = e2e.run_replay([nesting])
        self.assertEqual([a["misdirect"]["recipient"] for a in default.alerts], ["deep@army.ml"])
        self.assertEqual(e2e.run_replay([nesting], extra=["--max-encapsulation-depth", "3"]).alerts, [])
        deeper = e2e.run_replay([nesting], extra=["--max-encapsulation-depth", "5"])
        self.assertEqual(sorted(a["misdirect"]["recipient"] for a in deeper.alerts), ["deep@army.ml", "too-deep@amry.mil"])
        self.assertEqual(deeper.records[-1]["stats"]["decoder"]["too_many_layers"], 0)

    def test_bad_tunnel_flags_are_refused(self):
        cases = {
            ("--vxlan-ports", "4789,6081"): "port 6081 is in both --vxlan-ports and --geneve-ports",
            ("--geneve-ports", "1,2,3,4,5,6,7,8,9"): "--geneve-ports: at most 8 ports",
            ("--vxlan-ports", "0"): '--vxlan-ports: "0" is not a number from 1 to 65535',
            ("--max-encapsulation-depth", "0"): '--max-encapsulation-depth: "0" is not a number from 1 to 16',
        }
        for extra, message in cases.items():
            with self.subTest(extra=extra):
                replay = e2e.run_replay([VXLAN_TENANTS], extra=list(extra))
                self.assertEqual(replay.returncode, 2)
                self.assertEqual(replay.records, [])
                self.assertIn(message, replay.stderr)


# Captures whose frames carry their flows inside encapsulations (tests/pcapgen/tunnel_captures.py).
TUNNELLED = sorted(glob.glob(os.path.join(e2e.PCAPS, "tunnel-*.pcap")) + [VXLAN_TENANTS])
# tshark does not guess an Ethernet pseudowire under an MPLS label: say which labels carry one
# (with and without the control word), per direction.
TSHARK_DECODE_AS = ["-d", "mpls.label==3000,pwethcw", "-d", "mpls.label==4000,pwethcw",
                    "-d", "mpls.label==3001,pwethnocw", "-d", "mpls.label==4001,pwethnocw"]
CHECKSUM_STATUS = ("ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "gre.checksum.status")


def tshark(path, *arguments):
    done = subprocess.run(["tshark", "-r", path, *TSHARK_DECODE_AS, *arguments], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"tshark on {path}: {done.stderr.decode()[-300:]}")
    return done.stdout.decode()


@unittest.skipUnless(shutil.which("tshark"), "tshark is not installed")
class TsharkReadsTheTunnelledCapturesTest(unittest.TestCase):
    """An independent dissector agrees the tunnelled captures are what they claim: every checksum
    right (outer and inner IPv4 headers, TCP, UDP over IPv4 and IPv6, GRE), and the inner SMTP of
    every flow decoded, with each recipient the capture expects an alert for."""

    def test_there_is_a_capture_per_encapsulation(self):
        names = {os.path.basename(path) for path in TUNNELLED}
        for wanted in ("vxlan-tenants.pcap", "tunnel-vxlan-ipv6.pcap", "tunnel-geneve.pcap", "tunnel-erspan-ii.pcap",
                       "tunnel-erspan-iii.pcap", "tunnel-gre.pcap", "tunnel-mpls.pcap", "tunnel-pppoe.pcap",
                       "tunnel-ip-in-ip.pcap", "tunnel-nesting.pcap", "tunnel-erspan-fragmented.pcap"):
            self.assertIn(wanted, names)

    def test_every_checksum_is_right(self):
        for path in TUNNELLED:
            with self.subTest(capture=os.path.basename(path)):
                out = tshark(path, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                             "-o", "udp.check_checksum:TRUE", "-T", "fields",
                             *[part for field in CHECKSUM_STATUS for part in ("-e", field)])
                statuses = [value for line in out.splitlines() for column in line.split("\t")
                            for value in column.split(",") if value]
                # Wireshark's checksum status: 0 bad, 1 good, 2 not verified.
                self.assertNotIn("0", statuses)
                self.assertGreater(statuses.count("1"), 0)

    def test_the_inner_smtp_of_every_flow_is_decoded(self):
        for path in TUNNELLED:
            with self.subTest(capture=os.path.basename(path)):
                # Two tenants share one inner 5-tuple in vxlan-tenants: tshark's TCP analysis would
                # take one for the other's retransmissions, so each segment is read on its own.
                out = tshark(path, "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE",
                             "-Y", 'smtp.req.command == "RCPT"', "-T", "fields", "-e", "smtp.req.parameter")
                decoded = {line.strip()[len("TO:<"):-1] for line in out.splitlines() if line.startswith("TO:<")}
                expected = {row["recipient"] for row in
                            e2e.load_jsonl(path.rsplit(".", 1)[0] + ".expected.jsonl") if "recipient" in row}
                self.assertTrue(expected)
                self.assertEqual(expected - decoded, set(), f"tshark decoded {sorted(decoded)}")


if __name__ == "__main__":
    unittest.main()
