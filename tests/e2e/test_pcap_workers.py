"""`misdirect replay --workers N`: flows fanned out by the symmetric flow hash to N worker
threads give the records one worker gives, after sorting — alerts, smtp records and the summed
stats — on every bundled capture, in one run over all of them (files end in every worker alike).

Left out of the comparison, because they depend on how flows are split, not on what was found:
flow_id (numbered per worker today, worker id in the top bits), and in the stats the per-worker
caches — verdict_cache hits/misses (each worker has its own cache of verdicts) and the learned
address book's counters (the book is shared, but each worker writes its own table, so evictions
and lookups follow its flows) — and the per-thread entries (`threads`) and stats.flow.memuse (each
worker reserves its own flow table), and misdirect.fanout (the reader's placement of outer
fragments, which only a fan-out has).

A DNS answer and the SMTP connection it leads to may land on different workers: the book is
shared and read in input order, so the dns-learned alert is raised all the same (checked with runs
that put the two flows apart, and together).
"""
import glob
import json
import os
import struct
import tempfile
import unittest

import misdirect_e2e as e2e


def setUpModule():
    e2e.require_binary()


def captures():
    return sorted(glob.glob(os.path.join(e2e.PCAPS, "*.pcap")) + glob.glob(os.path.join(e2e.PCAPS, "*.pcapng")))


PER_WORKER_CACHES = ("verdict_cache", "learned")
# What only a fan-out has: the reader's placement of outer fragments (misdirect.fanout).
FAN_OUT_ONLY = ("fanout",)


def comparable(replay):
    lines = []
    stats = None
    for record in replay.records:
        if record.get("event_type") == "stats":
            # Both halves of the tree; `threads` is one entry per worker, and flow.memuse is what
            # each worker's flow table reserved, so both follow N, not what was found.
            suricata = {key: value for key, value in record["stats"].items() if key != "threads"}
            suricata["flow"] = {key: value for key, value in suricata["flow"].items() if key != "memuse"}
            own = {key: value for key, value in record["misdirect"].items()
                   if key not in PER_WORKER_CACHES + FAN_OUT_ONLY + ("threads",)}
            stats = {"stats": suricata, "misdirect": own, "timestamp": record["timestamp"]}
            continue
        record = dict(record)
        record.pop("flow_id", None)
        lines.append(json.dumps(record, sort_keys=True))
    return sorted(lines), stats


class WorkersTest(unittest.TestCase):
    def test_two_and_three_workers_equal_one(self):
        pcaps = captures()
        one = e2e.run_replay(pcaps, extra=["--workers", "1", "--max-flows", "65536"])
        self.assertIn(one.returncode, (0, 1), one.stderr)
        lines_one, stats_one = comparable(one)
        self.assertGreater(len([r for r in one.records if r.get("event_type") == "alert"]), 50)
        for workers in (2, 3):
            with self.subTest(workers=workers):
                many = e2e.run_replay(pcaps, extra=["--workers", str(workers), "--max-flows", "65536"])
                self.assertEqual(many.returncode, one.returncode, many.stderr)
                lines_many, stats_many = comparable(many)
                self.assertEqual(e2e.multiset_difference(lines_many, lines_one), "")
                self.assertEqual(stats_many, stats_one)

    def test_one_capture_with_workers(self):
        kinds = os.path.join(e2e.PCAPS, "kinds.pcap")
        one = e2e.run_replay([kinds])
        many = e2e.run_replay([kinds], extra=["--workers", "2"])
        self.assertEqual(many.returncode, 0, many.stderr)
        self.assertEqual(comparable(many)[0], comparable(one)[0])
        self.assertRegex(many.stderr, r"replay: 1 file, \d+ packets, \d+ SMTP sessions?, \d+ recipients?, "
                                      rf"{len(one.alerts)} alerts in ")

    def test_a_dns_answer_teaches_the_smtp_flow_on_another_worker(self):
        # The MX look-up for army.ml and the STARTTLS session to the address it gave, alone.
        capture = os.path.join(e2e.PCAPS, "dns-mx-starttls.pcap")
        only_two = ["--bpf", "port 53100 or port 40400"]
        one = e2e.run_replay([capture], extra=only_two)
        self.assertEqual(one.returncode, 0, one.stderr)
        expected = sorted(e2e.alert_key(a) for a in one.alerts)
        self.assertEqual([key[1] for key in expected], ["dns-learned army.ml", "dns-query army.ml"])
        placements = set()
        # The fan-out hash places flows by their addresses (and, where replay has --hash-seed, by the
        # run's secret, pinned here so that each run is reproducible): over these runs the two
        # flows meet in one worker for some and land apart for others (both are checked below).
        helped = e2e.run_misdirect(["replay", "--help"])
        seeds = [["--hash-seed", str(seed)] for seed in range(1, 9)]
        if b"--hash-seed" not in helped.stdout + helped.stderr:
            seeds = [[]]
        runs = [["--workers", str(workers)] + seed for seed in seeds for workers in range(2, 9)]
        for placement_args in runs:
            if placements == {"apart", "together"}:
                break
            many = e2e.run_replay([capture], extra=only_two + placement_args)
            self.assertEqual(many.returncode, 0, many.stderr)
            stats = next(r for r in many.records if r.get("event_type") == "stats")
            # Which worker each flow went to: the one that saw the DNS flow, and the SMTP one.
            threads = stats["misdirect"]["threads"]
            dns = [name for name, t in threads.items() if t["worker"]["dns_flows"] == 1]
            smtp = [name for name, t in threads.items() if t["worker"]["smtp_flows_by_port"] == 1]
            self.assertEqual((len(dns), len(smtp)), (1, 1), list(threads))
            placements.add("apart" if dns[0] != smtp[0] else "together")
            with self.subTest(run=" ".join(placement_args), placement=dns[0] + "/" + smtp[0]):
                self.assertEqual(sorted(e2e.alert_key(a) for a in many.alerts), expected)
        self.assertEqual(placements, {"apart", "together"})

    def test_a_mirror_that_fragments_some_packets_splits_no_flow(self):
        # vxlan-mirror-fragments.pcap: eight tenant flows behind one outer address pair, of whose
        # packets only the large ones were outer-fragmented, some with the first fragment last or
        # after the flow's next packet. Placed by the outer pair, those fragments would reach
        # another worker than the rest of their flow (with two workers, seven flows in eight
        # would be split for some seed); placed by the inner flow their first fragment carries,
        # every run gives one worker's records.
        capture = os.path.join(e2e.PCAPS, "vxlan-mirror-fragments.pcap")
        one = e2e.run_replay([capture], extra=["--workers", "1"])
        self.assertEqual(one.returncode, 0, one.stderr)
        lines_one, stats_one = comparable(one)
        self.assertEqual(len(one.alerts), 8)
        for workers in (2, 3):
            for seed in (1, 2, 3):
                with self.subTest(workers=workers, seed=seed):
                    many = e2e.run_replay([capture], extra=["--workers", str(workers), "--hash-seed", str(seed)])
                    self.assertEqual(many.returncode, 0, many.stderr)
                    lines_many, stats_many = comparable(many)
                    self.assertEqual(e2e.multiset_difference(lines_many, lines_one), "")
                    self.assertEqual(stats_many, stats_one)
                    record = many.records[-1]
                    # The flows were spread, and the fragments followed them.
                    flows = [t["worker"]["smtp_flows_by_port"] for t in record["misdirect"]["threads"].values()]
                    self.assertEqual(sum(flows), 8, flows)
                    self.assertGreater(len([count for count in flows if count > 0]), 1, flows)
                    fanout = record["misdirect"]["fanout"]
                    self.assertEqual(fanout["fragments_by_inner_flow"], 64, fanout)  # 32 packets, 2 pieces each
                    # The second piece of each packet whose first fragment came later: 22 of them.
                    self.assertEqual(fanout["fragments_held"], 22, fanout)
                    for fallback in ("fragment_hold_timeouts", "fragment_hold_flushed", "fragment_hold_full",
                                     "fragment_table_full", "first_fragment_short"):
                        self.assertEqual(fanout[fallback], 0, fallback)

    def test_a_fragment_still_waiting_at_the_end_of_the_file_is_not_lost(self):
        # The last cut packet of vxlan-mirror-fragments.pcap without its first fragment: its
        # second piece waits for it to the end of the file, then goes by its outer header (the
        # reader's flush), and the records are still one worker's.
        source = os.path.join(e2e.PCAPS, "vxlan-mirror-fragments.pcap")
        with open(source, "rb") as capture:
            data = capture.read()
        records, offset = [], 24
        while offset < len(data):
            included = struct.unpack("<I", data[offset + 8:offset + 12])[0]
            records.append(data[offset:offset + 16 + included])
            offset += 16 + included
        firsts = [index for index, record in enumerate(records)
                  if record[16 + 12:16 + 14] == b"\x08\x00" and record[16 + 20:16 + 22] == b"\x20\x00"]
        del records[firsts[-1]]
        with tempfile.TemporaryDirectory(prefix="mdr-frag-") as tmp:
            capture = os.path.join(tmp, "last-first-fragment-lost.pcap")
            with open(capture, "wb") as out:
                out.write(data[:24] + b"".join(records))
            one = e2e.run_replay([capture], extra=["--workers", "1"])
            many = e2e.run_replay([capture], extra=["--workers", "2", "--hash-seed", "1"])
        self.assertEqual(many.returncode, 0, many.stderr)
        lines_one, stats_one = comparable(one)
        lines_many, stats_many = comparable(many)
        self.assertEqual(e2e.multiset_difference(lines_many, lines_one), "")
        self.assertEqual(stats_many, stats_one)
        fanout = many.records[-1]["misdirect"]["fanout"]
        self.assertEqual((fanout["fragment_hold_flushed"], fanout["fragment_hold_timeouts"]), (1, 0), fanout)
        packets = sum(t["worker"]["packets"] for t in many.records[-1]["misdirect"]["threads"].values())
        self.assertEqual(packets, len(records))

    def test_bad_worker_count(self):
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "kinds.pcap")], extra=["--workers", "0"])
        self.assertEqual(replay.returncode, 2)
        self.assertIn("--workers", replay.stderr)
        self.assertEqual(replay.records, [])


if __name__ == "__main__":
    unittest.main()
