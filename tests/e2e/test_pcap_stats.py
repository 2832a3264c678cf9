"""The replay's `stats` record: one tree, Suricata's names under `stats`, misdirect's own under
`misdirect`, every worker's figures under `threads` (docs/records.md, "stats")."""
import os
import re
import unittest

import misdirect_e2e as e2e

KINDS = os.path.join(e2e.PCAPS, "kinds.pcap")

# Names docs/records.md promises in a replay's record.
SURICATA_NAMES = [
    "stats.uptime", "stats.decoder.pkts", "stats.decoder.bytes", "stats.decoder.ipv4",
    "stats.decoder.ipv6", "stats.decoder.tcp", "stats.decoder.udp", "stats.decoder.vlan",
    "stats.decoder.invalid", "stats.flow.tcp", "stats.flow.udp", "stats.flow.active", "stats.flow.memuse",
    "stats.tcp.sessions", "stats.tcp.reassembly_gap", "stats.tcp.segment_memcap_drop",
    "stats.tcp.overlap", "stats.tcp.overlap_diff_data", "stats.tcp.rst",
    "stats.app_layer.flow.smtp", "stats.app_layer.tx.smtp",
    "stats.decoder.vxlan", "stats.decoder.erspan", "stats.decoder.too_many_layers",
]
MISDIRECT_NAMES = [
    "misdirect.matcher.generation", "misdirect.worker.packets", "misdirect.smtp.alerts",
    "misdirect.smtp.records_dropped", "misdirect.smtp_anomalies.line_too_long",
    "misdirect.verdict_cache.hits", "misdirect.alerts", "misdirect.encapsulation.vxlan",
    "misdirect.encapsulation.erspan_type_iii", "misdirect.encapsulation.unsupported_gtp_u",
    "misdirect.decoder.not_ip", "misdirect.decoder.truncated_headers", "misdirect.defrag.fragments",
    "misdirect.flow.flows_created", "misdirect.flow.flows_evicted", "misdirect.tcp.tcp_segments", "misdirect.tcp.tcp_gaps_timeout",
    "misdirect.alerts_by_kind.tld-swap", "misdirect.alerts_by_kind.homoglyph",
    "misdirect.alerts_by_kind.edit-distance",
]
# Names that moved to `misdirect` (Suricata's stats have no such counter) and must not be in
# `stats` any more (docs/records.md, "Every figure, old name → new name").
MOVED_OUT_OF_STATS = [
    "stats.decoder.not_ip", "stats.defrag", "stats.flow.flows_evicted", "stats.tcp.tcp_segments",
    "stats.tcp.tcp_overlaps",
]


def bounds_table_counters():
    """Every counter name docs/records.md's "Bounds" table gives (backquoted, full paths)."""
    with open(os.path.join(e2e.SOURCE, "docs", "records.md"), encoding="utf-8") as doc:
        text = doc.read()
    table = text.split("## Bounds", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| bound")]
    names = []
    for row in rows:
        counter_cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        names += re.findall(r"`((?:stats|misdirect)\.[a-z_.]+)`", counter_cell)
    return rows, names


def setUpModule():
    e2e.require_binary()


def at(record, path):
    values = e2e.find_values(record, path)
    return values[0] if values else None


class ReplayStats(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.replay = e2e.run_replay([KINDS])
        cls.record = cls.replay.records[-1]

    def test_top_level_keys(self):
        self.assertEqual(self.replay.returncode, 0, self.replay.stderr)
        self.assertEqual(list(self.record), ["timestamp", "event_type", "host", "stats", "misdirect"])
        self.assertEqual(self.record["event_type"], "stats")
        self.assertLessEqual(set(self.record["stats"]),
                             {"uptime", "decoder", "flow", "tcp", "app_layer", "threads"})

    def test_documented_names_are_there(self):
        for path in SURICATA_NAMES + MISDIRECT_NAMES:
            self.assertIsInstance(at(self.record, path), int, path)

    def test_every_bound_names_counters_the_record_has(self):
        rows, names = bounds_table_counters()
        self.assertGreater(len(rows), 20)
        for row in rows:
            self.assertRegex(row.rstrip(" |").rsplit(" | ", 1)[1], r"`(stats|misdirect)\.", row)
        # The fan-out's names are in a record whose replay fans out (--workers 2); one worker's
        # replay has no fan-out.
        fanned = e2e.run_replay([KINDS], extra=["--workers", "2"]).records[-1]
        for path in names:
            record = fanned if path.startswith("misdirect.fanout.") else self.record
            self.assertIsInstance(at(record, path), int, path)

    def test_misdirect_only_counters_are_not_under_stats(self):
        for path in MOVED_OUT_OF_STATS:
            self.assertIsNone(at(self.record, path), path)

    def test_counts_match_the_capture(self):
        self.assertEqual(at(self.record, "stats.decoder.pkts"), e2e.count_packets(KINDS))
        self.assertEqual(at(self.record, "misdirect.worker.packets"), e2e.count_packets(KINDS))
        self.assertEqual(at(self.record, "misdirect.smtp.alerts"), len(self.replay.alerts))
        self.assertGreater(at(self.record, "stats.app_layer.flow.smtp"), 0)
        self.assertEqual(at(self.record, "stats.flow.tcp"), at(self.record, "stats.tcp.sessions"))
        self.assertEqual(at(self.record, "stats.flow.tcp") + at(self.record, "stats.flow.udp"),
                         at(self.record, "misdirect.flow.flows_created"))

    def test_alerts_by_kind_are_the_alert_records_kinds(self):
        by_kind = self.record["misdirect"]["alerts_by_kind"]
        self.assertEqual(len(by_kind), 14)
        written = {}
        for alert in self.replay.alerts:
            kind = alert["misdirect"]["kind"]
            written[kind] = written.get(kind, 0) + 1
        self.assertEqual({kind: count for kind, count in by_kind.items() if count}, written)
        self.assertEqual(sum(by_kind.values()), at(self.record, "misdirect.alerts"))

    def test_alerts_by_kind_count_dns_alerts_too(self):
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "dns-queries.pcap")])
        record = replay.records[-1]
        self.assertGreater(record["misdirect"]["dns"]["alerts"], 0)
        self.assertEqual(sum(record["misdirect"]["alerts_by_kind"].values()), record["misdirect"]["alerts"])

    def test_one_worker_thread_holds_the_totals(self):
        for half in ("stats", "misdirect"):
            totals = {k: v for k, v in self.record[half].items() if k not in ("uptime", "threads")}
            self.assertEqual(list(self.record[half]["threads"]), ["W#01"])
            thread = {k: v for k, v in self.record[half]["threads"]["W#01"].items() if k != "generation"}
            if half == "misdirect":
                totals.pop("matcher", None)
                totals.pop("output", None)  # the EVE file sink is the run's, not a worker's
            self.assertEqual(thread, totals, half)


if __name__ == "__main__":
    unittest.main()
