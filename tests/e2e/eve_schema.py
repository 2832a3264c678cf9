"""The EVE record layout Suricata documents, as checks: field names and JSON types of the event
types misdirect writes (alert, smtp, dns, stats) and of the objects they hold (alert, smtp, email,
tls, dns, tunnel, flow, stats sections), written from Suricata's EVE documentation (eve-json-format) and
the field names and types its schema lists.

Suricata's schema allows no field it does not name, at any level. misdirect's own fields live
under the one top-level key `misdirect`, which is the single exception checked here; inside it,
anything goes (docs/records.md describes it).

`problems(record)` returns a list of readable problems, empty when the record is valid.
"""
import re

# ---- types ---------------------------------------------------------------------------------


class Type:
    """A JSON type check."""

    def __init__(self, name, test):
        self.name = name
        self.test = test

    def check(self, value, path, out):
        if not self.test(value):
            out.append(f"{path}: {json_type(value)} where Suricata has {self.name}")


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


STRING = Type("string", lambda v: isinstance(v, str))
INTEGER = Type("integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
NUMBER = Type("number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
BOOLEAN = Type("boolean", lambda v: isinstance(v, bool))


class Pattern(Type):
    def __init__(self, regex):
        super().__init__(f"string matching {regex}", lambda v: isinstance(v, str) and re.search(regex, v))


class Array:
    """An array of `items`; Suricata's arrays of values are never empty (minItems 1)."""

    def __init__(self, items, min_items=1):
        self.items = items
        self.min_items = min_items

    def check(self, value, path, out):
        if not isinstance(value, list):
            out.append(f"{path}: {json_type(value)} where Suricata has an array")
            return
        if len(value) < self.min_items:
            out.append(f"{path}: an empty array (Suricata leaves the field out instead)")
        for index, item in enumerate(value):
            self.items.check(item, f"{path}[{index}]", out)


class Object:
    """An object whose members must be among `fields` (no others: Suricata's
    additionalProperties false). `open_members`: any further member allowed with that type;
    `open_names`: a pattern those further members' names must match."""

    def __init__(self, fields, open_members=None, open_names=None):
        self.fields = fields
        self.open_members = open_members
        self.open_names = open_names

    def check(self, value, path, out):
        if not isinstance(value, dict):
            out.append(f"{path}: {json_type(value)} where Suricata has an object")
            return
        for name, member in value.items():
            where = f"{path}.{name}" if path else name
            spec = self.fields.get(name, self.open_members)
            if spec is None:
                out.append(f"{where}: not a field Suricata documents here")
                continue
            if name not in self.fields and self.open_names and not re.search(self.open_names, name):
                out.append(f"{where}: not a name Suricata gives here (it matches {self.open_names})")
                continue
            spec.check(member, where, out)


def counters(*names):
    """A stats section of integer counters."""
    return {name: INTEGER for name in names}


# ---- objects -------------------------------------------------------------------------------

ALERT = Object({
    "action": STRING, "gid": INTEGER, "signature_id": INTEGER, "rev": INTEGER, "signature": STRING,
    "category": STRING, "severity": INTEGER, "rule": STRING, "xff": STRING,
    "references": Array(STRING),
    "metadata": Object({}, open_members=Array(STRING)),
    "source": Object({"ip": STRING, "port": INTEGER}),
    "target": Object({"ip": STRING, "port": INTEGER}),
})

SMTP = Object({"helo": STRING, "mail_from": STRING, "rcpt_to": Array(STRING)})

EMAIL = Object({
    "status": STRING, "from": STRING, "to": Array(STRING), "cc": Array(STRING), "subject": STRING,
    "message_id": STRING, "date": STRING, "x_mailer": STRING, "received": Array(STRING),
    "attachment": Array(STRING), "url": Array(STRING), "body_md5": STRING, "subject_md5": STRING,
})

TUNNEL = Object({
    "src_ip": STRING, "src_port": INTEGER, "dest_ip": STRING, "dest_port": INTEGER, "proto": STRING,
    "depth": INTEGER, "pcap_cnt": INTEGER, "pkt_src": STRING,
})

FLOW = Object({
    "pkts_toserver": INTEGER, "pkts_toclient": INTEGER, "bytes_toserver": INTEGER,
    "bytes_toclient": INTEGER, "start": STRING, "end": STRING, "age": INTEGER, "state": STRING,
    "reason": STRING, "alerted": BOOLEAN, "action": STRING, "bypass": STRING, "emergency": BOOLEAN,
    "tx_cnt": INTEGER, "src_ip": STRING, "dest_ip": STRING, "src_port": INTEGER, "dest_port": INTEGER,
    "wrong_thread": BOOLEAN, "elephant": BOOLEAN,
})

TLS = Object({
    "sni": STRING, "version": STRING, "subject": STRING, "issuerdn": STRING, "serial": STRING,
    "fingerprint": STRING, "session_resumed": BOOLEAN, "notbefore": STRING, "notafter": STRING,
    "certificate": STRING, "chain": Array(STRING), "client_alpns": Array(STRING),
    "server_alpns": Array(STRING),
    "ja3": Object({"hash": STRING, "string": STRING}), "ja3s": Object({"hash": STRING, "string": STRING}),
    "ja4": STRING,
})

_DNS_RECORD = Object({"rrname": STRING, "rrtype": STRING, "ttl": INTEGER, "rdata": STRING,
                      "rdata_truncated": BOOLEAN, "rrname_truncated": BOOLEAN,
                      "soa": Object({}, open_members=Type("value", lambda v: v is not None)),
                      "srv": Object({}, open_members=Type("value", lambda v: v is not None))})

DNS = Object({
    "version": INTEGER, "type": STRING, "id": INTEGER, "flags": STRING, "qr": BOOLEAN, "aa": BOOLEAN,
    "tc": BOOLEAN, "rd": BOOLEAN, "ra": BOOLEAN, "z": BOOLEAN, "opcode": INTEGER, "rcode": STRING,
    "rrname": STRING, "rrtype": STRING, "tx_id": INTEGER,
    "queries": Array(Object({"id": INTEGER, "opcode": INTEGER, "rrname": STRING, "rrname_truncated": BOOLEAN,
                             "rrtype": STRING, "tx_id": INTEGER, "type": STRING, "z": BOOLEAN})),
    "answers": Array(_DNS_RECORD),
    "authorities": Array(_DNS_RECORD),
    "additionals": Array(_DNS_RECORD),
    "grouped": Object({name: Array(STRING) for name in
                       ("A", "AAAA", "CNAME", "MX", "NS", "NULL", "PTR", "SOA", "SRV", "SSHFP", "TXT")}),
})

ETHER = Object({"src_mac": STRING, "dest_mac": STRING, "ether_type": INTEGER,
                "src_macs": Array(STRING), "dest_macs": Array(STRING)})

APP_LAYER_PROTOCOLS = (
    "bittorrent_dht", "dcerpc_tcp", "dcerpc_udp", "dhcp", "dnp3", "dns_tcp", "dns_udp", "doh2",
    "enip_tcp", "enip_udp", "ftp", "ftp_data", "http", "http2", "ike", "ikev2", "imap", "krb5_tcp",
    "krb5_udp", "ldap_tcp", "ldap_udp", "llmnr_tcp", "llmnr_udp", "mdns", "modbus", "mqtt",
    "nfs_tcp", "nfs_udp", "ntp", "pgsql", "pop3", "quic", "rdp", "rfb", "sip_tcp", "sip_udp", "smb",
    "smtp", "snmp", "ssh", "telnet", "tftp", "tls", "websocket")

STATS = Object({
    "uptime": INTEGER,
    "decoder": Object(counters(
        "pkts", "bytes", "invalid", "ipv4", "ipv6", "ethernet", "arp", "chdlc", "raw", "null", "sll",
        "sll2", "tcp", "udp", "sctp", "esp", "icmpv4", "icmpv6", "igmp", "ppp", "pppoe", "geneve", "gre",
        "vlan", "vlan_qinq", "vlan_qinqinq", "vxlan", "vntag", "ieee8021ah", "teredo", "ipv4_in_ipv4",
        "ipv4_in_ipv6", "ipv6_in_ipv4", "ipv6_in_ipv6", "mpls", "avg_pkt_size", "max_pkt_size",
        "max_mac_addrs_src", "max_mac_addrs_dst", "erspan", "nsh", "etag", "too_many_layers",
        "unknown_ethertype")),
    "flow": Object({
        **counters("memcap", "tcp", "udp", "icmpv4", "icmpv6", "tcp_reuse", "get_used", "get_used_eval",
                   "get_used_eval_reject", "get_used_eval_busy", "get_used_failed", "total", "active",
                   "spare", "emerg_mode_entered", "emerg_mode_over", "memuse", "elephant",
                   "elephant_toserver", "elephant_toclient"),
        "end": Object({
            "tcp_liberal": INTEGER,
            "state": Object(counters("new", "established", "closed", "local_bypassed", "capture_bypassed")),
            "tcp_state": Object(counters("none", "syn_sent", "syn_recv", "established", "fin_wait1",
                                         "fin_wait2", "time_wait", "last_ack", "close_wait", "closing",
                                         "closed")),
        }),
        "mgr": Object(counters("full_hash_pass", "rows_per_sec", "rows_maxlen", "flows_checked",
                               "flows_notimeout", "flows_timeout", "flows_evicted", "flows_evicted_needs_work")),
        "wrk": Object(counters("spare_sync_avg", "spare_sync", "spare_sync_incomplete", "spare_sync_empty",
                               "flows_evicted_needs_work", "flows_evicted_pkt_inject", "flows_evicted",
                               "flows_injected", "flows_injected_max")),
        "recycler": Object(counters("recycled", "queue_avg", "queue_max")),
    }),
    "tcp": Object(counters(
        "active_sessions", "sessions", "ssn_memcap_drop", "ssn_from_cache", "ssn_from_pool", "pseudo",
        "invalid_checksum", "midstream_pickups", "pkt_on_wrong_thread", "ack_unseen_data",
        "segment_memcap_drop", "segment_from_cache", "segment_from_pool", "stream_depth_reached",
        "reassembly_gap", "overlap", "overlap_diff_data", "insert_data_normal_fail",
        "insert_data_overlap_fail", "syn", "synack", "rst", "urg", "urgent_oob_data", "memuse",
        "reassembly_memuse", "no_flow")),
    "defrag": Object({
        **counters("max_trackers_reached", "max_frags_reached", "tracker_soft_reuse", "tracker_hard_reuse",
                   "memuse"),
        "ipv4": Object(counters("fragments", "reassembled", "timeouts")),
        "ipv6": Object(counters("fragments", "reassembled", "timeouts")),
        "mgr": Object(counters("tracker_timeout")),
        "wrk": Object(counters("tracker_timeout")),
    }),
    "app_layer": Object({
        "expectations": INTEGER,
        "flow": Object(counters(*APP_LAYER_PROTOCOLS, "failed_tcp", "failed_udp")),
        "tx": Object(counters(*APP_LAYER_PROTOCOLS)),
        "error": Object({name: Object(counters("alloc", "gap", "internal", "parser"))
                         for name in APP_LAYER_PROTOCOLS + ("failed_tcp",)}),
    }),
    "detect": Object(counters("alert", "alert_queue_overflow", "alerts_suppressed")),
    "capture": Object(counters("kernel_packets", "kernel_drops", "kernel_ifdrops", "errors")),
    "memcap": Object(counters("pressure", "pressure_max")),
    "flow_bypassed": Object(counters("local_pkts", "local_bytes", "local_capture_pkts",
                                     "local_capture_bytes", "closed", "pkts", "bytes")),
})

# Per-thread figures. Suricata writes them when its stats output is configured with `threads: yes`
# (eve-log.yaml: "threads: no # per thread stats"; the default is totals only, which is why its
# schema lists no `threads`): `stats.threads` maps each thread's name — "W#01" for the first
# worker, "W#01-eth0" with the interface in live capture, "RX#01", "FM#01", ... — to an object of
# the same sections as the totals, without `uptime`.
STATS.fields["threads"] = Object(
    {}, open_members=Object({name: spec for name, spec in STATS.fields.items() if name != "uptime"}),
    open_names=r"^[A-Z]+#\d{2,}(-.+)?$")

# The top level: the common section and each event type's object.
TOP = Object({
    "timestamp": Pattern(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+[+\-]\d+$"),
    "event_type": STRING,
    "flow_id": INTEGER,
    "parent_id": INTEGER,
    "in_iface": STRING,
    "vlan": Array(NUMBER),
    "src_ip": STRING,
    "src_port": INTEGER,
    "dest_ip": STRING,
    "dest_port": INTEGER,
    "proto": STRING,
    "ip_v": INTEGER,
    "pkt_src": STRING,
    "direction": STRING,
    "community_id": STRING,
    "tx_id": INTEGER,
    "app_proto": STRING,
    "pcap_cnt": INTEGER,
    "pcap_filename": STRING,
    "capture_file": STRING,
    "host": STRING,
    "ether": ETHER,
    "tunnel": TUNNEL,
    "alert": ALERT,
    "smtp": SMTP,
    "email": EMAIL,
    "tls": TLS,
    "dns": DNS,
    "flow": FLOW,
    "stats": STATS,
})

REQUIRED = ("timestamp", "event_type")
# The one key for misdirect's own fields.
EXTENSION_KEY = "misdirect"


def problems(record):
    """Everything about `record` that Suricata's EVE layout does not allow."""
    out = []
    if not isinstance(record, dict):
        return [f"the record is {json_type(record)}, not an object"]
    for name in REQUIRED:
        if name not in record:
            out.append(f"{name}: missing (Suricata requires it)")
    standard = {k: v for k, v in record.items() if k != EXTENSION_KEY}
    TOP.check(standard, "", out)
    if EXTENSION_KEY in record and not isinstance(record[EXTENSION_KEY], dict):
        out.append(f"{EXTENSION_KEY}: {json_type(record[EXTENSION_KEY])}, not an object")
    event_type = record.get("event_type")
    if isinstance(event_type, str) and event_type in TOP.fields and event_type not in record:
        out.append(f"{event_type}: an {event_type} record without its {event_type} object")
    return out
