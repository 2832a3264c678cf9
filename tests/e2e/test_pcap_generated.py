"""The generated captures in pcaps/: `misdirect replay` must raise exactly the alerts in each
capture's <name>.expected.jsonl (flow, recipient, kind, accepted) — none missing, none extra, no
duplicates — with every required EVE field, smtp records per transaction, and a stats record last.
"""
import collections
import glob
import os
import re
import unittest

import misdirect_e2e as e2e

# Captures that end early on purpose: replay must still report what it read, and exit non-zero.
CUT_SHORT = {"truncated-file.pcap"}

# Per capture (one flow each): the smtp records in order, each the list of (address, reply_code)
# the client sent in RCPT TO — parameters and angle brackets removed, rejected ones included.
SMTP_TRANSACTIONS = {
    "plain-session.pcap": [[("bob@army.ml", 250), ("carol@amry.mil", 550), ("dave@army.mil", 250),
                            ("erin@hq.army.mil", 250), ("frank@hq.army.ml", 250), ("grace@notarmy.ml", 250),
                            ("heidi@army.ml.example.org", 250), ("ivan@examplebank.co", 250),
                            ("judy@navy.ml", 450)]],
    "pipelining.pcap": [[("b@army.ml", 250), ("c@navy.ml", 554), ("d@nvy.mil", 250)],
                        [("e@armmy.mil", 250), ("f@army.mil", 250)]],
    "rset.pcap": [[("one@army.ml", 250)], [("two@amry.mil", 250), ("one@army.ml", 250)]],
    "one-sided.pcap": [[("one@army.ml", None), ("two@amry.mil", None)], [("three@nvy.mil", None)]],
    "bdat-body.pcap": [[("real@navy.ml", 250)], [("after@amry.mil", 250)]],
    "data-body.pcap": [[("real@navy.ml", 250)], [("after@amry.mil", 250)]],
    "starttls.pcap": [[("pre@army.ml", 250)]],
    # The STARTTLS session to the learned address: its encrypted part is one record, with no
    # recipients; the plaintext session to the same address, its transaction.
    "dns-mx-starttls.pcap": [[], [("clerk@army.ml", 250)]],
    "smtps-465.pcap": [],
    "header-impersonation.pcap": [[("finance@army.mil", 250)], [("finance@army.mil", 250)]],
    "ipv4-fragments.pcap": [[("frag@army.ml", 250), ("frag2@amry.mil", 550)]],
    "tcp-retransmission.pcap": [[("r1@army.ml", 250), ("r2@amry.mil", 250), ("r3@nvy.mil", 250)]],
    "tcp-out-of-order.pcap": [[("oo@army.ml", 250), ("o2@amry.mil", 250), ("o3@nvy.mil", 550)]],
    "ethernet-padding.pcap": [[("pad@army.ml", 250), ("pad2@nvy.mil", 550)]],
}
# LMTP captures: per flow, the smtp records in order, each the list of (address, reply_code to RCPT,
# delivery_code — the recipient's own reply after the content, None when there was none).
LMTP_TRANSACTIONS = {
    "lmtp.pcap": {
        "192.0.2.30:40400-203.0.113.40:24": [
            [("bob@army.ml", 250, 250), ("carol@amry.mil", 250, 552), ("dave@army.mil", 250, 250),
             ("erin@nvy.mil", 550, None)],
            [("frank@navy.ml", 250, 451), ("grace@navy.mil", 250, 250)]],
        "192.0.2.30:40401-203.0.113.40:7024": [[("heidi@armmy.mil", 250, 250)]],
    },
}
# Recipients in an smtp record, as a multiset, where grouping into transactions is not the point.
SMTP_RECIPIENTS = {
    "rcpt-before-mail.pcap": [("early@army.ml", 503), ("later@navy.ml", 250)],
}
# Counters the stats record must show for a capture (name anywhere in "stats", op, value): the
# packet-path event the capture exists for was seen and counted, not just survived.
STATS = {
    "ipv4-fragments.pcap": [("fragment_datagrams_reassembled", "==", 2), ("fragment_duplicates", ">=", 1)],
    "truncated-headers.pcap": [("truncated_headers", "==", "packets")],
    "idle-expiry.pcap": [("flows_idle_timeout", "==", 1)],
    "ipv6-ext-headers.pcap": [("fragment_datagrams_reassembled", "==", 1)],
    "vlan-8021q.pcap": [("stats.decoder.vlan", "==", "packets")],
    "qinq-88a8.pcap": [("stats.decoder.vlan", "==", "packets")],
    "qinq-9100.pcap": [("stats.decoder.vlan", "==", "packets")],
    "tcp-out-of-order.pcap": [("tcp_segments_held", ">=", 3)],
    "tcp-retransmission.pcap": [("tcp_retransmissions", ">=", 2), ("tcp_partial_retransmissions", ">=", 1)],
    "tcp-overlap.pcap": [("stats.tcp.overlap_diff_data", ">=", 1), ("stats.tcp.overlap", ">=", 1)],
    "tcp-gap.pcap": [("tcp_gaps_timeout", ">=", 1), ("smtp_stream_gaps", ">=", 1)],
    "truncated-snaplen.pcap": [("truncated_payload", ">=", 1)],
    "midstream.pcap": [("tcp_midstream_pickups", ">=", 1)],
    "noise.pcap": [("not_ip", "==", 3), ("udp", "==", 2), ("other_ip_protocol", "==", 2)],
    "nonstandard-port.pcap": [("smtp_flows_detected", "==", 1)],
    "http-connect-tunnel.pcap": [("smtp_flows_tunnelled", "==", 1)],
    "socks5-tunnel.pcap": [("smtp_flows_tunnelled", "==", 1)],
    "smtps-465.pcap": [("implicit_tls_flows", "==", 1)],
    "starttls.pcap": [("tls_sessions", "==", 1)],
    "starttls-plaintext.pcap": [("plaintext_after_starttls", "==", 1), ("tls_sessions", "==", 0)],
    "many-flows.pcap": [("stats.flow.tcp", "==", 48)],
    "header-impersonation.pcap": [("header_alerts", "==", 2), ("lookalike_header_addresses", "==", 3),
                                  ("lookalike_seen_again", "==", 1), ("sender_alerts", "==", 0)],
    "vxlan-tenants.pcap": [("stats.decoder.vxlan", "==", "packets"), ("stats.flow.tcp", "==", 2)],
    "vxlan-mirror-flows.pcap": [("stats.decoder.vxlan", "==", "packets"), ("stats.flow.tcp", "==", 17)],
    "tunnel-vxlan-ipv6.pcap": [("stats.decoder.vxlan", "==", "packets")],
    "tunnel-geneve.pcap": [("stats.decoder.geneve", "==", "packets")],
    "tunnel-erspan-ii.pcap": [("erspan_type_ii", "==", "packets"), ("stats.decoder.erspan", "==", "packets")],
    "tunnel-erspan-iii.pcap": [("erspan_type_iii", "==", "packets")],
    "tunnel-gre.pcap": [("stats.decoder.gre", "==", "packets")],
    "tunnel-mpls.pcap": [("stats.decoder.mpls", "==", "packets"), ("mpls_pseudowire", "==", 30)],
    "tunnel-pppoe.pcap": [("pppoe_session", "==", "packets")],
    "tunnel-ip-in-ip.pcap": [("ipv4_in_ipv4", "==", 15), ("ipv6_in_ipv4", "==", 15), ("ipv4_in_ipv6", "==", 15),
                             ("ipv6_in_ipv6", "==", 15)],
    "tunnel-nesting.pcap": [("stats.decoder.too_many_layers", "==", 15)],
    "tunnel-erspan-fragmented.pcap": [("erspan_type_ii", "==", 15), ("fragment_datagrams_reassembled", "==", 15)],
    "dns-queries.pcap": [("malformed", "==", 1), ("pointer_loop", "==", 1), ("responses_matched", "==", 8),
                         ("dns_flows", "==", 8), ("stats.flow.udp", "==", 7), ("stats.flow.tcp", "==", 1)],
    "lmtp.pcap": [("lmtp_flows_by_port", "==", 1), ("smtp_flows_detected", "==", 1), ("lmtp_delivered", "==", 4),
                  ("lmtp_not_delivered", "==", 2)],
    "dns-mx-starttls.pcap": [("exchanges_learned", "==", 2), ("addresses_learned", "==", 2),
                             ("address_hits", "==", 2), ("learned_alerts", "==", 1), ("client_hellos", "==", 3),
                             ("lookalike_seen_again", "==", 1), ("stats.flow.udp", "==", 2),
                             ("stats.flow.tcp", "==", 4)],
}
VLANS = {"tunnel-vxlan-ipv6.pcap": [7], "tunnel-pppoe.pcap": [100], "vlan-8021q.pcap": [100], "qinq-88a8.pcap": [200, 100], "qinq-9100.pcap": [300, 100]}


def setUpModule():
    e2e.require_binary()


def generated_captures(include_demo=False):
    found = glob.glob(os.path.join(e2e.PCAPS, "*.pcap")) + glob.glob(os.path.join(e2e.PCAPS, "*.pcapng"))
    if include_demo:
        found += glob.glob(os.path.join(e2e.PCAPS, "demo", "*.pcap"))  # what scripts/demo shows
    return sorted(found)


class GeneratedCaptureTest(unittest.TestCase):
    maxDiff = None

    def check_capture(self, path):
        name = os.path.basename(path)
        stem = name.rsplit(".", 1)[0]
        expected_rows = e2e.load_jsonl(os.path.join(os.path.dirname(path), stem + ".expected.jsonl"))
        replay = e2e.run_replay([path])
        context = f"{name}: exit {replay.returncode}, stderr: {replay.stderr.strip()[:500]}"

        if name in CUT_SHORT:
            self.assertNotEqual(replay.returncode, 0, context)
        else:
            self.assertEqual(replay.returncode, 0, context)
        for record in replay.records:
            self.assertNotIn("unparsable", record, context)
            self.assertIn("event_type", record, context)
            self.assertRegex(record.get("timestamp", ""), e2e.TIMESTAMP, context)

        # Alerts: exactly the expected ones.
        actual = [e2e.alert_key(a) for a in replay.alerts]
        expected = [e2e.expected_key(row) for row in expected_rows]
        difference = e2e.multiset_difference(actual, expected)
        self.assertEqual(difference, "", f"{name}: alerts differ from {stem}.expected.jsonl\n{difference}")
        pairs = collections.Counter((key[0], key[1]) for key in actual)
        self.assertEqual([p for p, n in pairs.items() if n > 1], [], f"{name}: duplicate alerts")

        for alert in replay.alerts:
            e2e.check_alert_fields(self, alert)
            # Time comes from the packets (every generated capture starts 2026-01-15 09:00 UTC).
            self.assertTrue(alert["timestamp"].startswith("2026-01-15T09:0"), alert["timestamp"])
            self.assertTrue(str(alert.get("pcap_filename", "")).endswith(name), f"pcap_filename: {alert}")
            if name in VLANS:
                self.assertEqual(alert.get("vlan"), VLANS[name], f"{name}: vlan field")
            else:
                self.assertNotIn("vlan", alert, name)
        # One flow_id per flow, different flows different ids.
        ids = {}
        for alert in replay.alerts:
            ids.setdefault(e2e.flow_key_of(alert), set()).add(alert["flow_id"])
        for flow, flow_ids in ids.items():
            self.assertEqual(len(flow_ids), 1, f"{name}: flow {flow} has flow_ids {flow_ids}")
        all_ids = [next(iter(v)) for v in ids.values()]
        self.assertEqual(len(all_ids), len(set(all_ids)), f"{name}: flows share a flow_id: {ids}")

        # smtp records: well formed; every alerted recipient is in one of its flow's records.
        for record in replay.smtp:
            e2e.check_smtp_fields(self, record)
        sent = collections.defaultdict(set)
        for record in replay.smtp:
            sent[e2e.flow_key_of(record)].update(record["smtp"].get("rcpt_to", []))
        for flow, recipient, _, _ in actual:
            if " " in recipient:
                continue  # another role than recipient: "<role> <domain>"
            self.assertIn(recipient, sent[flow], f"{name}: alerted {recipient} is in no smtp record of {flow}")
        if name in SMTP_TRANSACTIONS:
            transactions = [[(r.get("address"), r.get("reply_code")) for r in record["misdirect"]["recipients"]]
                            for record in replay.smtp]
            self.assertEqual(transactions, SMTP_TRANSACTIONS[name], f"{name}: smtp records")
        if name in LMTP_TRANSACTIONS:
            by_flow = collections.defaultdict(list)
            for record in replay.smtp:
                self.assertIs(record["misdirect"].get("lmtp"), True, f"{name}: {record}")
                by_flow[e2e.flow_of(record)].append(
                    [(r.get("address"), r.get("reply_code"), r.get("delivery_code", "<missing>"))
                     for r in record["misdirect"]["recipients"]])
            self.assertEqual(dict(by_flow), LMTP_TRANSACTIONS[name], f"{name}: LMTP smtp records")
        else:
            for record in replay.records:
                self.assertNotIn("lmtp", record.get("misdirect") or {}, f"{name}: an SMTP record says lmtp")
        if name in SMTP_RECIPIENTS:
            rows = [(r.get("address"), r.get("reply_code"))
                    for record in replay.smtp for r in record["misdirect"]["recipients"]]
            self.assertEqual(e2e.multiset_difference(rows, SMTP_RECIPIENTS[name]), "", f"{name}: smtp recipients")

        # The stats record comes last and counts what was read.
        self.assertTrue(replay.records, context)
        stats = replay.records[-1]
        self.assertEqual(stats.get("event_type"), "stats", f"{name}: last record is not stats")
        self.assertEqual(len(replay.of_type("stats")), 1, name)
        self.assertIn(e2e.count_packets(path), e2e.find_values(stats, "packets"),
                      f"{name}: stats has no 'packets' equal to the {e2e.count_packets(path)} records read")
        self.assertIn(len(replay.alerts), e2e.find_values(stats, "alerts"),
                      f"{name}: stats has no 'alerts' equal to the {len(replay.alerts)} alerts written")
        for counter, op, value in STATS.get(name, []):
            if value == "packets":
                value = e2e.count_packets(path)
            values = e2e.find_values(stats, counter)
            self.assertTrue(values, f"{name}: stats has no counter {counter}")
            good = [v for v in values if (v == value if op == "==" else v >= value)]
            self.assertTrue(good, f"{name}: stats {counter} = {values}, want {op} {value}")


def _make_test(path):
    def test(self):
        self.check_capture(path)
    return test


for _path in generated_captures(include_demo=True):
    _stem = os.path.relpath(_path, e2e.PCAPS).rsplit(".", 1)[0].replace("-", "_").replace("/", "_")
    setattr(GeneratedCaptureTest, f"test_{_stem}", _make_test(_path))


class OptionsTest(unittest.TestCase):
    """The replay options that change what a capture yields."""

    def test_all_generated_captures_in_one_run(self):
        # Several files in one run: flows never span files, and the alerts are the union.
        paths = [p for p in generated_captures() if os.path.basename(p) not in CUT_SHORT]
        replay = e2e.run_replay(paths)
        self.assertEqual(replay.returncode, 0, replay.stderr[:500])
        expected = []
        for path in paths:
            stem = os.path.basename(path).rsplit(".", 1)[0]
            expected += [e2e.expected_key(r) for r in e2e.load_jsonl(os.path.join(e2e.PCAPS, stem + ".expected.jsonl"))]
        actual = [e2e.alert_key(a) for a in replay.alerts]
        self.assertEqual(e2e.multiset_difference(actual, expected), "")
        self.assertEqual(replay.records[-1].get("event_type"), "stats")

    def test_output_does_not_depend_on_the_hash_seed(self):
        # The flow, fragment and fan-out hashes take a random secret per run (--hash-seed fixes
        # it): every record, in order, must be the same whatever the seed. The stats record says
        # nothing about the seed either.
        paths = [p for p in generated_captures() if os.path.basename(p) not in CUT_SHORT]
        runs = [e2e.run_replay(paths, extra=extra) for extra in ([], ["--hash-seed", "1"],
                                                                 ["--hash-seed", "18446744073709551615"])]
        for replay in runs:
            self.assertEqual(replay.returncode, 0, replay.stderr[:500])
        self.assertGreater(len(runs[0].alerts), 20)

        # flow_id is salted at random per run (docs/records.md): each id is replaced by the order
        # in which it first appears, so records still have to match flow for flow.
        def flows_renumbered(lines):
            ids = {}
            return [re.sub(r'"flow_id":(\d+)', lambda m: '"flow_id":%d' % ids.setdefault(m.group(1), len(ids)), line)
                    for line in lines]
        self.assertEqual(flows_renumbered(runs[0].lines), flows_renumbered(runs[1].lines))
        self.assertEqual(flows_renumbered(runs[0].lines), flows_renumbered(runs[2].lines))
        bad = e2e.run_replay(paths[:1], extra=["--hash-seed", "0"])
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--hash-seed", bad.stderr)

    def test_hyperscan_engine_gives_the_same_alerts(self):
        # The Hyperscan engine is the default engine's twin: every generated capture, same alerts.
        paths = [p for p in generated_captures(include_demo=True) if os.path.basename(p) not in CUT_SHORT]
        expected = []
        for path in paths:
            stem = os.path.relpath(path, e2e.PCAPS).rsplit(".", 1)[0]
            expected += [e2e.expected_key(r) for r in e2e.load_jsonl(os.path.join(e2e.PCAPS, stem + ".expected.jsonl"))]
        replay = e2e.run_replay(paths, extra=["--matcher-engine", "hyperscan"])
        self.assertEqual(replay.returncode, 0, replay.stderr[:500])
        actual = [e2e.alert_key(a) for a in replay.alerts]
        self.assertGreater(len(actual), 20)
        self.assertEqual(e2e.multiset_difference(actual, expected), "")

    def test_eve_file(self):
        import tempfile
        with tempfile.TemporaryDirectory() as scratch:
            eve = os.path.join(scratch, "eve.json")
            replay = e2e.run_replay([os.path.join(e2e.PCAPS, "plain-session.pcap")], extra=["--eve", eve])
            self.assertEqual(replay.returncode, 0, replay.stderr)
            self.assertEqual([line for line in replay.lines if line.strip()], [], "EVE went to stdout")
            rows = e2e.load_jsonl(eve)
        kinds = [r["misdirect"]["kind"] for r in rows if r.get("event_type") == "alert"]
        self.assertEqual(sorted(kinds), ["tld-swap", "tld-swap", "tld-swap", "transposition"])

    def test_without_allow_list_the_owned_lookalike_alerts(self):
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "plain-session.pcap")], allow=None)
        self.assertEqual(replay.returncode, 0, replay.stderr)
        recipients = sorted(a["misdirect"]["recipient"] for a in replay.alerts)
        self.assertIn("ivan@examplebank.co", recipients)
        self.assertEqual(len(recipients), 5)

    def test_small_flow_table_evicts_and_counts(self):
        # 48 interleaved sessions through a 16-flow table: flows are evicted (and counted), never
        # grown; what is alerted is still a subset of the truth, each at most once.
        path = os.path.join(e2e.PCAPS, "many-flows.pcap")
        replay = e2e.run_replay([path], extra=["--max-flows", "16"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        stats = replay.records[-1]
        self.assertEqual(stats.get("event_type"), "stats")
        self.assertTrue([v for v in e2e.find_values(stats, "flows_evicted") if v > 0], "no eviction counted")
        expected = {(key[0], key[1]) for key in
                    (e2e.expected_key(r) for r in e2e.load_jsonl(os.path.join(e2e.PCAPS, "many-flows.expected.jsonl")))}
        alerted = [(e2e.flow_of(a), a["misdirect"]["recipient"]) for a in replay.alerts]
        self.assertEqual(sorted(set(alerted) - expected), [], "alerts invented under eviction")
        self.assertEqual(len(alerted), len(set(alerted)), "duplicate alerts under eviction")
        for alert in replay.alerts:
            e2e.check_alert_fields(self, alert)

    def test_public_suffix_list_option(self):
        # The list domains are split by: a copy of Debian's text list gives the default's alerts; a
        # missing file, or a file that is no Public Suffix List, is exit 2 naming the file. The
        # same list without the rule "mil" has no suffix com.mil to swap to, so army.com.mil is no
        # longer a tld-swap of army.mil (shown through `check`, which builds the same matcher).
        import subprocess
        import tempfile
        debian = "/usr/share/publicsuffix/public_suffix_list.dat"
        if not os.path.exists(debian):
            self.skipTest(f"{debian} is not installed")
        path = os.path.join(e2e.PCAPS, "plain-session.pcap")

        def kinds(replay):
            return sorted((a["misdirect"]["recipient"], a["misdirect"]["kind"]) for a in replay.alerts)

        default = e2e.run_replay([path])
        self.assertEqual(default.returncode, 0, default.stderr)
        with tempfile.TemporaryDirectory() as scratch:
            with open(debian, encoding="utf-8") as source:
                rules = source.read().splitlines()
            self.assertIn("mil", rules)
            full = os.path.join(scratch, "full.dat")
            trimmed = os.path.join(scratch, "no-mil.dat")
            with open(full, "w", encoding="utf-8") as out:
                out.write("\n".join(rules) + "\n")
            with open(trimmed, "w", encoding="utf-8") as out:
                out.write("\n".join(rule for rule in rules if rule != "mil") + "\n")
            same = e2e.run_replay([path], extra=["--public-suffix-list", full])
            self.assertEqual(same.returncode, 0, same.stderr)
            self.assertEqual(kinds(same), kinds(default))
            for psl, verdict in ((full, "look-alike of army.mil (tld-swap, army.com.mil)"),
                                 (trimmed, "not a look-alike")):
                done = e2e.run_misdirect(["check", "--protected", e2e.PROTECTED, "--public-suffix-list", psl,
                                          "x@army.com.mil"])
                self.assertIn(verdict, done.stdout.decode(), psl)
            for bad in (os.path.join(scratch, "missing.dat"), os.path.join(e2e.PCAPS, "protected.txt")):
                refused = e2e.run_replay([path], extra=["--public-suffix-list", bad])
                self.assertEqual(refused.returncode, 2, refused.stderr)
                self.assertIn(bad, refused.stderr)
                self.assertEqual(refused.alerts, [])

    def test_ports_option_and_port_detection(self):
        path = os.path.join(e2e.PCAPS, "nonstandard-port.pcap")
        listed = e2e.run_replay([path], extra=["--ports", "8025", "--no-port-detection"])
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual([a["misdirect"]["recipient"] for a in listed.alerts], ["port@army.ml"])
        unlisted = e2e.run_replay([path], extra=["--no-port-detection"])
        self.assertEqual(unlisted.returncode, 0, unlisted.stderr)
        self.assertEqual(unlisted.alerts, [])


if __name__ == "__main__":
    unittest.main()
