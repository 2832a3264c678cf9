"""dpdk suite: every flow record `misdirect live` writes names the port its flow arrived on as
`in_iface` (docs/records.md), right after `flow_id` as Suricata places it; `misdirect replay` writes
none. Two net_pcap ports, each replaying its own capture, with 2 workers (one RX lcore fans the
frames out to two worker rings, so the port travels with each frame through the rings): every
record of a flow from the first capture says `net_pcap0`, of the second `net_pcap1` (a vdev that
reads a file has no kernel interface: its DPDK name is the name). The `iface=` naming of
net_af_packet ports is checked by the span suite (test_span_veth.py).
"""
import os
import unittest

import eve_schema
import live_e2e as live

# Two captures with alert and smtp records whose flows do not overlap (checked below).
CAPTURES = ["data-body.pcap", "message-identity.pcap"]


def flow_of(record):
    """The flow as an unordered pair of endpoints (dns responses are written from the responder)."""
    return frozenset([(record["src_ip"], record["src_port"]), (record["dest_ip"], record["dest_port"])])


class DpdkInIfaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        cls.paths = [os.path.join(live.PCAPS, name) for name in CAPTURES]
        for path in cls.paths:
            if not os.path.exists(path):
                raise unittest.SkipTest(f"no capture {path}")
        cls.replayed = [live.run_replay(path) for path in cls.paths]

    def flow_records(self, records):
        return [r for r in records if r.get("event_type") != "stats"]

    def test_replay_writes_no_in_iface(self):
        for path, records in zip(self.paths, self.replayed):
            flows = self.flow_records(records)
            self.assertTrue(flows, f"replay of {path} wrote no flow record")
            self.assertEqual([r for r in flows if "in_iface" in r], [], path)

    def test_live_records_name_their_port(self):
        # Which port each flow must be named by: the capture its port replays.
        port_of_flow = {}
        for index, records in enumerate(self.replayed):
            for record in self.flow_records(records):
                flow = flow_of(record)
                self.assertEqual(port_of_flow.setdefault(flow, f"net_pcap{index}"), f"net_pcap{index}",
                                 f"{CAPTURES} share the flow {sorted(flow)}: pick captures that do not")
        records, stderr = live.run_live_files(self.paths, workers=2, wall_clock=True)
        self.assertEqual(stderr.count("mode software-fanout"), len(self.paths), stderr)
        flows = self.flow_records(records)
        for index in range(len(self.paths)):
            name = f"net_pcap{index}"
            for event_type in ("alert", "smtp"):
                self.assertTrue([r for r in flows if r["event_type"] == event_type and r.get("in_iface") == name],
                                f"no {event_type} record with in_iface {name}")
        for record in flows:
            with self.subTest(event_type=record["event_type"], flow=sorted(flow_of(record))):
                self.assertEqual(record.get("in_iface"), port_of_flow.get(flow_of(record)), record)
                # Suricata's place: timestamp, flow_id, in_iface, then event_type.
                self.assertEqual(list(record)[:4], ["timestamp", "flow_id", "in_iface", "event_type"])
                self.assertEqual(eve_schema.problems(record), [])
        # The stats record belongs to no flow and no port.
        stats = live.final_stats(records)
        self.assertIsNotNone(stats)
        self.assertNotIn("in_iface", stats)


if __name__ == "__main__":
    unittest.main()
