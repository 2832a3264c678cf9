"""Every record misdirect writes over every bundled capture (generated, demo, public and the
broken ones in pcaps/errors/) must be valid EVE as Suricata documents it (eve_schema.py), with
misdirect's own fields only under the `misdirect` key. Flow records (alert, smtp) must also carry
what joins them to other tools: a Community ID that matches their 5-tuple (recomputed here, per
the Community ID v1 spec), a 51-bit flow_id, the transaction's tx_id and the sensor's host.
"""
import base64
import glob
import hashlib
import ipaddress
import os
import struct
import unittest

import eve_schema
import misdirect_e2e as e2e

SENSOR = "schema-test-sensor"
FLOW_EVENT_TYPES = ("alert", "smtp", "dns")


def setUpModule():
    e2e.require_binary()


def bundled_captures():
    found = []
    for pattern in ("*.pcap", "*.pcapng", "demo/*.pcap", "errors/*.pcap", "public/**/*.pcap",
                    "public/**/*.pcapng"):
        found += glob.glob(os.path.join(e2e.PCAPS, pattern), recursive=True)
    return sorted(found)


def community_id(src_ip, src_port, dest_ip, dest_port, protocol=6, seed=0):
    """Community ID v1, written from the spec for this test (not the program's code)."""
    source = ipaddress.ip_address(src_ip).packed
    destination = ipaddress.ip_address(dest_ip).packed
    if (source, src_port) > (destination, dest_port):
        source, destination, src_port, dest_port = destination, source, dest_port, src_port
    data = struct.pack(">H", seed) + source + destination + struct.pack(">BBHH", protocol, 0, src_port, dest_port)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


class CheckerTest(unittest.TestCase):
    """The checker itself finds what the issue named (a test that cannot fail proves nothing)."""

    GOOD = {"timestamp": "2026-01-15T09:00:00.000001+0000", "event_type": "smtp", "flow_id": 5,
            "src_ip": "192.0.2.1", "src_port": 1, "dest_ip": "192.0.2.2", "dest_port": 25, "proto": "TCP",
            "app_proto": "smtp", "smtp": {"helo": "h", "mail_from": "a@b", "rcpt_to": ["c@d"]},
            "tunnel": {"src_ip": "192.0.2.9", "src_port": 0, "dest_ip": "192.0.2.8", "dest_port": 0, "proto": "GRE",
                       "depth": 1},
            "misdirect": {"anything": [None, {}]}}

    def with_changes(self, path, value):
        record = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.GOOD.items()}
        target = record
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return record

    def test_a_valid_record_has_no_problems(self):
        self.assertEqual(eve_schema.problems(self.GOOD), [])

    def test_what_the_issue_found_is_caught(self):
        cases = {
            ("smtp", "mail_from"): None,          # mail_from: null
            ("smtp", "rcpt_to"): [],              # rcpt_to: []
            ("flow_id",): "5",                    # wrong type
            ("timestamp",): "2026-01-15 09:00:00",
            ("verdicts",): {},                    # an own field outside `misdirect`
            ("smtp", "recipients"): [],           # an own field inside Suricata's object
            ("event_type",): KeyError,
            ("src_port",): True,                  # a boolean is not an integer
            ("tunnel", "vni"): 7,                 # misdirect's tunnel id is not Suricata's
            ("tunnel", "depth"): "1",
        }
        for path, value in cases.items():
            with self.subTest(path=path):
                self.assertNotEqual(eve_schema.problems(self.with_changes(path, value)), [])

    def test_the_community_id_of_this_test_matches_the_spec_examples(self):
        # corelight/community-id-spec baseline: TCP over IPv4 and IPv6, both directions.
        self.assertEqual(community_id("128.232.110.120", 34855, "66.35.250.204", 80), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        self.assertEqual(community_id("66.35.250.204", 80, "128.232.110.120", 34855), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        self.assertEqual(community_id("2607:f8b0:400c:c03::1a", 25, "2001:470:e5bf:dead:4957:2174:e82c:4887", 63943),
                         "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=")
        self.assertEqual(community_id("128.232.110.120", 34855, "66.35.250.204", 80, seed=1),
                         "1:3V71V58M3Ksw/yuFALMcW0LAHvc=")


class RecordChecks:
    """The checks of one record, shared by the test classes below."""

    def check_record(self, record, where):
        self.assertNotIn("unparsable", record, where)
        found = eve_schema.problems(record)
        self.assertEqual(found, [], f"{where}: not valid EVE:\n  " + "\n  ".join(found))
        self.assertEqual(record.get("host"), SENSOR, f"{where}: host")

    def check_flow_record(self, record, where):
        self.assertIn(record.get("app_proto"), ("smtp", "dns"), where)
        self.assertIsInstance(record.get("flow_id"), int, where)
        self.assertTrue(0 < record["flow_id"] < 2 ** 51, f"{where}: flow_id {record['flow_id']} is not 51-bit")
        md = record.get("misdirect", {})
        if record.get("app_proto") == "smtp" and md.get("role", "recipient") == "recipient" and not md.get("encrypted"):
            # A transaction's records (an encrypted session, or a look-alike sender, SNI or learned
            # address, is about the flow, not one transaction).
            self.assertIsInstance(record.get("tx_id"), int, f"{where}: tx_id")
        self.assertEqual(record.get("community_id"),
                         community_id(record["src_ip"], record["src_port"], record["dest_ip"], record["dest_port"],
                                      protocol=17 if record.get("proto") == "UDP" else 6),
                         f"{where}: community_id")


class BundledCaptureSchemaTest(RecordChecks, unittest.TestCase):
    maxDiff = None

    def check_capture(self, path):
        replay = e2e.run_replay([path], extra=["--sensor-name", SENSOR])
        name = os.path.relpath(path, e2e.PCAPS)
        self.assertTrue(replay.records, f"{name}: no records (stderr: {replay.stderr[:300]})")
        for index, record in enumerate(replay.records):
            where = f"{name} record {index + 1} ({record.get('event_type')})"
            self.check_record(record, where)
            if record.get("event_type") in FLOW_EVENT_TYPES:
                self.check_flow_record(record, where)


class TunnelObjectTest(RecordChecks, unittest.TestCase):
    """A tunnelled flow's records carry Suricata's `tunnel` object (the outer header) and keep the
    tunnel kind and id, which Suricata has no field for, under `misdirect.tunnel`."""

    def test_a_tunnelled_flow_carries_the_tunnel_object(self):
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "vxlan-tenants.pcap")], extra=["--sensor-name", SENSOR])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        flow_records = replay.alerts + replay.smtp
        self.assertEqual(len(replay.alerts), 2)
        for index, record in enumerate(flow_records):
            where = f"vxlan-tenants.pcap {record['event_type']} {index}"
            self.check_record(record, where)
            self.check_flow_record(record, where)
            self.assertEqual(record.get("tunnel"), {"src_ip": "192.0.2.10", "src_port": 49320, "dest_ip": "192.0.2.99",
                                                    "dest_port": 4789, "proto": "UDP", "depth": 1}, where)
            tunnel = record["misdirect"]["tunnel"]
            self.assertEqual((tunnel["kind"], tunnel["layers"]), ("vxlan", ["vxlan"]), where)
        self.assertEqual(sorted(a["misdirect"]["tunnel"]["id"] for a in replay.alerts), [100, 200])

    def test_an_untunnelled_flow_has_none(self):
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "plain-session.pcap")])
        self.assertTrue(replay.alerts)
        for record in replay.alerts + replay.smtp:
            self.assertNotIn("tunnel", record)
            self.assertNotIn("tunnel", record["misdirect"])


class StatsSchemaTest(RecordChecks, unittest.TestCase):
    """The stats record: Suricata's names under `stats` (per-thread figures under stats.threads, as
    Suricata writes them with `threads: yes`), every misdirect-only counter under `misdirect`."""

    def check_stats(self, extra, threads):
        path = os.path.join(e2e.PCAPS, "kinds.pcap")
        replay = e2e.run_replay([path], extra=["--sensor-name", SENSOR] + extra)
        self.assertEqual(replay.returncode, 0, replay.stderr)
        stats = replay.of_type("stats")
        self.assertEqual(len(stats), 1)
        self.check_record(stats[0], f"kinds.pcap stats {extra}")
        self.assertEqual(list(stats[0]["stats"]["threads"]), threads)

    def test_the_stats_record_is_valid_eve(self):
        self.check_stats([], ["W#01"])

    def test_the_stats_record_of_two_workers_is_valid_eve(self):
        self.check_stats(["--workers", "2"], ["W#01", "W#02"])

    def test_the_checker_refuses_what_suricata_does_not_name_in_stats(self):
        good = {"timestamp": "2026-01-15T09:00:00.000001+0000", "event_type": "stats",
                "stats": {"uptime": 1, "decoder": {"pkts": 1},
                          "threads": {"W#01": {"decoder": {"pkts": 1}}, "W#02-eth0": {"tcp": {"rst": 0}}}},
                "misdirect": {"decoder": {"not_ip": 0}}}
        self.assertEqual(eve_schema.problems(good), [])
        bad = [
            {"decoder": {"pkts": 1, "not_ip": 0}},                 # a misdirect-only decoder counter
            {"threads": {"W#01": {"decoder": {"not_ip": 0}}}},     # ... inside a thread
            {"threads": {"worker 0": {"decoder": {"pkts": 1}}}},   # not a thread name
            {"threads": {"W#01": {"uptime": 1}}},                  # uptime is the record's only
            {"capture": {"ports": {}}},                            # no per-port capture figures
            {"defrag": {"fragments": 1}},                          # Suricata's are per IP version
        ]
        for stats in bad:
            with self.subTest(stats=stats):
                self.assertNotEqual(eve_schema.problems(dict(good, stats=stats)), [])


def _make_test(path):
    def test(self):
        self.check_capture(path)
    return test


for _path in bundled_captures():
    _stem = os.path.relpath(_path, e2e.PCAPS).rsplit(".", 1)[0]
    _stem = "".join(c if c.isalnum() else "_" for c in _stem)
    setattr(BundledCaptureSchemaTest, f"test_{_stem}", _make_test(_path))


class SchemaOptionsTest(unittest.TestCase):
    def test_community_id_seed_changes_the_id(self):
        path = os.path.join(e2e.PCAPS, "plain-session.pcap")
        replay = e2e.run_replay([path], extra=["--community-id-seed", "1"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertTrue(replay.alerts)
        for alert in replay.alerts:
            self.assertEqual(alert["community_id"],
                             community_id(alert["src_ip"], alert["src_port"], alert["dest_ip"], alert["dest_port"], seed=1))

    def test_bad_option_values_are_refused(self):
        path = os.path.join(e2e.PCAPS, "plain-session.pcap")
        for extra in (["--community-id-seed", "65536"], ["--community-id-seed", "x"], ["--sensor-name", ""]):
            with self.subTest(extra=extra):
                replay = e2e.run_replay([path], extra=extra)
                self.assertEqual(replay.returncode, 2)
                self.assertEqual(replay.records, [])
                self.assertIn(extra[0], replay.stderr)

    def test_host_defaults_to_the_hostname(self):
        import socket
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "plain-session.pcap")])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        flow_records = replay.alerts + replay.smtp
        self.assertTrue(flow_records)
        self.assertEqual({r.get("host") for r in flow_records}, {socket.gethostname()})

    def test_flow_ids_differ_between_runs(self):
        # Two runs over one capture appended to one file must not share flow ids.
        path = os.path.join(e2e.PCAPS, "many-flows.pcap")
        first = {r["flow_id"] for r in e2e.run_replay([path]).smtp}
        second = {r["flow_id"] for r in e2e.run_replay([path]).smtp}
        self.assertEqual(len(first), 48)
        self.assertEqual(first & second, set())


if __name__ == "__main__":
    unittest.main()
