"""Tunnelled captures (issue 13): the tunnel flags of replay (--vxlan-ports, --geneve-ports,
--max-encapsulation-depth) change what is opened, and a bad combination is refused with a message
that names it and no records.
"""
import os
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


if __name__ == "__main__":
    unittest.main()
