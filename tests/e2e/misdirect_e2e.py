"""Shared helpers for the end-to-end tests: find and run the real `misdirect replay`, parse its EVE
lines, and compare alerts and smtp records with what a capture must produce.

Environment: MISDIRECT (the binary; default <source>/build/misdirect when present), MISDIRECT_SOURCE
(the checkout; default: two folders above this file).
"""
import collections
import ipaddress
import json
import os
import re
import struct
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("MISDIRECT_SOURCE") or os.path.dirname(os.path.dirname(HERE))
PCAPS = os.path.join(SOURCE, "pcaps")
PROTECTED = os.path.join(PCAPS, "protected.txt")
ALLOW = os.path.join(PCAPS, "allow.txt")
PUBLIC = os.path.join(PCAPS, "public")

KIND_NAMES = {"tld-swap", "omission", "insertion", "replacement", "transposition", "repetition",
              "hyphenation", "vowel-swap", "bitsquatting", "homoglyph", "dot-omission", "dot-insertion",
              "subdomain-label", "edit-distance"}
ROLE_NAMES = {"recipient", "sender", "header-from", "reply-to", "dns-query", "dns-learned", "tls-sni"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$")
REPLAY_TIMEOUT_S = 300


def binary():
    """The misdirect binary to test, or None when there is none."""
    path = os.environ.get("MISDIRECT")
    if path:
        return path
    for candidate in (os.path.join(SOURCE, "build", "misdirect"), "/work/main/build/misdirect"):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_binary():
    """For setUpModule: skips the module (with the reason recorded) when no binary was built."""
    if binary() is None:
        raise unittest.SkipTest("no misdirect binary: set MISDIRECT or build <source>/build/misdirect")


class Replay:
    """One `misdirect replay` run: exit code, EVE records (parsed), stderr, raw stdout lines."""

    def __init__(self, returncode, records, stderr, lines):
        self.returncode = returncode
        self.records = records
        self.stderr = stderr
        self.lines = lines

    def of_type(self, event_type):
        return [r for r in self.records if r.get("event_type") == event_type]

    @property
    def alerts(self):
        return self.of_type("alert")

    @property
    def smtp(self):
        return self.of_type("smtp")


def run_misdirect(arguments, timeout_s=REPLAY_TIMEOUT_S):
    """Runs `misdirect ARGUMENTS...`; returns the CompletedProcess (stdout and stderr as bytes)."""
    return subprocess.run([binary()] + list(arguments), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout_s)


def parse_eve(text):
    """EVE lines to records. A line that is not a JSON object becomes {"unparsable": line}, so a
    test comparing records fails on it rather than skipping it."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        records.append(value if isinstance(value, dict) else {"unparsable": line})
    return records


def run_replay(pcaps, protected=PROTECTED, allow=ALLOW, extra=()):
    """Runs replay over `pcaps` with EVE on stdout (unless `extra` says --eve FILE)."""
    arguments = ["replay", "--protected", protected]
    if allow:
        arguments += ["--allow", allow]
    done = run_misdirect(arguments + list(extra) + list(pcaps))
    stdout = done.stdout.decode("utf-8", "replace")
    return Replay(done.returncode, parse_eve(stdout), done.stderr.decode("utf-8", "replace"), stdout.splitlines())


def endpoint(address, port):
    address = str(ipaddress.ip_address(address))
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def normalise_endpoint(text):
    """'[2001:db8::1]:25' / '1.2.3.4:25' in canonical form (compressed IPv6)."""
    address, _, port = text.rpartition(":")
    return endpoint(address.strip("[]"), int(port))


def flow_of(record):
    return f"{endpoint(record['src_ip'], record['src_port'])}-{endpoint(record['dest_ip'], record['dest_port'])}"


def flow_key_of(record):
    """The flow a record belongs to as the sensor keys it: its 5-tuple, and for a flow keyed by a
    tunnel identity (misdirect.tunnel.id) that identity, "<flow> vxlan:100" (two tenants with one
    inner 5-tuple are two flows)."""
    flow = flow_of(record)
    tunnel = (record.get("misdirect") or {}).get("tunnel") or {}
    if "id" in tunnel:
        flow += f" {tunnel.get('kind')}:{tunnel['id']}"
    return flow


def alert_key(record):
    """(flow, subject, kind, outcome) of an EVE alert; missing fields become '<missing>'. The subject
    is the recipient for a recipient alert, else "<role> <domain>" (a space: never an address); the
    outcome is `accepted` for recipients — a tuple (accepted, delivered, judged) when an LMTP session's
    recipient has `delivered` or the percent hack's next hop was judged (`judged`) — the response
    code for dns-query, else None. The flow is flow_key_of's (with the tunnel identity when it has one)."""
    md = record.get("misdirect") or {}
    try:
        flow = flow_key_of(record)
    except (KeyError, ValueError, TypeError):
        flow = "<missing>"
    role = md.get("role", "<missing>")
    if role == "recipient":
        extras = []
        if md.get("lmtp"):
            extras.append(md.get("delivered", "<missing>"))
        if "judged" in md:
            extras.append("judged " + json.dumps(md["judged"], sort_keys=True))
        outcome = (md.get("accepted", "<missing>"), *extras) if extras else md.get("accepted", "<missing>")
        return (flow, md.get("recipient", "<missing>"), md.get("kind", "<missing>"), outcome)
    outcome = md.get("rcode", "<missing>") if role == "dns-query" else None
    return (flow, f"{role} {md.get('domain', '<missing>')}", md.get("kind", "<missing>"), outcome)


def expected_key(row):
    client, server = row["flow"].split("-")  # addresses never contain '-'
    flow = f"{normalise_endpoint(client)}-{normalise_endpoint(server)}"
    if "tunnel" in row:
        flow += f" {row['tunnel']}"
    if "recipient" in row:
        extras = [row["delivered"]] if "delivered" in row else []
        if "judged" in row:
            extras.append("judged " + json.dumps(row["judged"], sort_keys=True))
        outcome = (row["accepted"], *extras) if extras else row["accepted"]
        return (flow, row["recipient"], row["kind"], outcome)
    return (flow, f"{row['role']} {row['domain']}", row["kind"], row.get("rcode"))


def load_jsonl(path):
    with open(path, encoding="utf-8") as source:
        return [json.loads(line) for line in source if line.strip()]


def multiset_difference(actual, expected):
    """A readable account of how two lists differ as multisets, or '' when they are equal."""
    have, want = collections.Counter(actual), collections.Counter(expected)
    missing = want - have
    extra = have - want
    if not missing and not extra:
        return ""
    text = []
    for key, count in sorted(missing.items(), key=repr):
        text.append(f"  missing{' x%d' % count if count > 1 else ''}: {key}")
    for key, count in sorted(extra.items(), key=repr):
        text.append(f"  extra{' x%d' % count if count > 1 else ''}:   {key}")
    return "\n".join(text)


def find_values(value, name):
    """Every value of a key called `name` anywhere inside a JSON value; a dotted name
    ("stats.decoder.vlan") is instead one path from `value` (a list of one value, or empty)."""
    if "." in name:
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return []
            value = value[part]
        return [value]
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == name:
                found.append(inner)
            found.extend(find_values(inner, name))
    elif isinstance(value, list):
        for inner in value:
            found.extend(find_values(inner, name))
    return found


def count_packets(path):
    """Whole records in a classic pcap or pcapng file (a record cut short is not counted)."""
    with open(path, "rb") as source:
        data = source.read()
    magic = data[:4]
    count = 0
    if magic == b"\x0a\x0d\x0d\x0a":
        endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        offset = 0
        while offset + 12 <= len(data):
            block_type, length = struct.unpack(endian + "II", data[offset:offset + 8])
            if length < 12 or offset + length > len(data):
                break
            if block_type in (3, 6):
                count += 1
            offset += length
        return count
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        if offset + 16 + caplen > len(data):
            break
        count += 1
        offset += 16 + caplen
    return count


def check_smtp_object(test, smtp, where):
    """Suricata's smtp object: values that were not seen are left out (never null, never [])."""
    for name in ("helo", "mail_from"):
        if name in smtp:
            test.assertIsInstance(smtp[name], str, f"{name}: {where}")
    if "rcpt_to" in smtp:
        test.assertIsInstance(smtp["rcpt_to"], list, where)
        test.assertTrue(smtp["rcpt_to"], f"rcpt_to is empty instead of absent: {where}")


def check_alert_fields(test, alert):
    """Every field the issue requires of an alert record, with its type."""
    where = json.dumps(alert)[:300]
    test.assertEqual(alert.get("event_type"), "alert", where)
    test.assertRegex(alert.get("timestamp", ""), TIMESTAMP, where)
    test.assertIn("flow_id", alert, where)
    test.assertIsInstance(alert["flow_id"], int, where)
    for name in ("src_ip", "dest_ip"):
        ipaddress.ip_address(alert.get(name, "missing"))  # raises on a bad or missing address
    for name in ("src_port", "dest_port"):
        test.assertIsInstance(alert.get(name), int, where)
        test.assertTrue(0 < alert[name] < 65536, where)
    block = alert.get("alert")
    test.assertIsInstance(block, dict, where)
    for name in ("action", "signature", "category"):
        test.assertIsInstance(block.get(name), str, where)
    for name in ("signature_id", "severity"):
        test.assertIsInstance(block.get(name), int, where)
    md = alert.get("misdirect")
    test.assertIsInstance(md, dict, where)
    test.assertIn(md.get("role"), ROLE_NAMES, where)
    for name in ("domain", "protected", "kind", "variant"):
        test.assertIsInstance(md.get(name), str, where)
    test.assertIn(md["kind"], KIND_NAMES, where)
    test.assertEqual(md["domain"], md["domain"].lower().rstrip("."), f"domain not canonical: {where}")
    test.assertTrue(md["domain"] == md["variant"] or md["domain"].endswith("." + md["variant"]),
                    f"variant is not the registrable suffix of the domain: {where}")
    if md["role"] == "dns-query":
        test.assertIn(alert.get("proto"), ("UDP", "TCP"), where)
        test.assertEqual(alert.get("app_proto"), "dns", where)
        test.assertIsInstance(md.get("query_type"), str, where)
        test.assertIn("rcode", md, where)
        test.assertIsInstance(alert.get("dns", {}).get("queries"), list, where)
        return
    test.assertEqual(alert.get("proto"), "TCP", where)
    if md["role"] == "dns-learned":
        evidence = md.get("dns")
        test.assertIsInstance(evidence, dict, where)
        for name in ("name", "host", "address", "learned", "resolver"):
            test.assertIsInstance(evidence.get(name), str, where)
        test.assertIn(md.get("reason"), ("starttls", "implicit-tls", "no-recipients"), where)
    if md["role"] == "tls-sni":
        test.assertIsInstance(alert.get("tls", {}).get("sni"), str, where)
    if md["role"] in ("header-from", "reply-to"):
        # About one message: its transaction, the header's address, the message's identity.
        test.assertIsInstance(alert.get("tx_id"), int, where)
        test.assertIsInstance(alert.get("email"), dict, where)
        address = md.get("address")
        test.assertIsInstance(address, str, where)
        test.assertTrue(address.lower().rstrip(".").endswith("@" + md["domain"]) or
                        address.lower().rstrip(".").endswith("." + md["domain"]),
                        f"the header address is not at the alert's domain: {where}")
    if md["role"] != "recipient":
        return
    test.assertIsInstance(alert.get("tx_id"), int, where)
    smtp = alert.get("smtp")
    test.assertIsInstance(smtp, dict, where)
    check_smtp_object(test, smtp, where)
    test.assertIsInstance(smtp.get("rcpt_to"), list, where)
    test.assertIsInstance(md.get("recipient"), str, where)
    test.assertIn("accepted", md, where)
    test.assertIn(md["accepted"], (True, False, None), where)
    test.assertIn(md["recipient"], smtp["rcpt_to"], f"rcpt_to so far lacks the recipient: {where}")


def check_smtp_fields(test, record):
    where = json.dumps(record)[:300]
    test.assertEqual(record.get("event_type"), "smtp", where)
    test.assertRegex(record.get("timestamp", ""), TIMESTAMP, where)
    test.assertIsInstance(record.get("tx_id"), int, where)
    smtp = record.get("smtp")
    test.assertIsInstance(smtp, dict, where)
    check_smtp_object(test, smtp, where)
    md = record.get("misdirect")
    test.assertIsInstance(md, dict, where)
    test.assertIsInstance(md.get("recipients"), list, where)
    test.assertIn(md.get("delivered"), (True, False), where)
    test.assertEqual([r.get("address") for r in md["recipients"]], smtp.get("rcpt_to", []),
                     f"misdirect.recipients and smtp.rcpt_to disagree: {where}")
    for recipient in md["recipients"]:
        test.assertIn("domain", recipient, where)
        test.assertIn("reply_code", recipient, where)
        test.assertTrue(recipient["reply_code"] is None or isinstance(recipient["reply_code"], int), where)


def smtp_recipients(replay):
    """(client, server, address, reply_code) for every recipient of every smtp record."""
    rows = []
    for record in replay.smtp:
        client = endpoint(record["src_ip"], record["src_port"])
        server = endpoint(record["dest_ip"], record["dest_port"])
        for recipient in (record.get("misdirect") or {}).get("recipients", []):
            rows.append((client, server, recipient.get("address"), recipient.get("reply_code")))
    return rows
