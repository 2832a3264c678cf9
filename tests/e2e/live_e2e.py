"""Helpers for the live-sensor suites (dpdk, span): running `misdirect live` and `misdirect replay`,
reading captures just enough to decide what net_pcap can replay, and comparing alerts.

Standard library only. Environment as for every e2e suite: MISDIRECT (the binary), MISDIRECT_SOURCE
(the checkout).
"""
import atexit
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import uuid

SOURCE = os.environ.get("MISDIRECT_SOURCE",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BINARY = os.environ.get("MISDIRECT", os.path.join(SOURCE, "build", "misdirect"))
# MISDIRECT_PCAPS points the suites at another capture directory (same layout as pcaps/).
PCAPS = os.environ.get("MISDIRECT_PCAPS", os.path.join(SOURCE, "pcaps"))
PROTECTED = os.path.join(PCAPS, "protected.txt")
ALLOW = os.path.join(PCAPS, "allow.txt")

# The most ports one live run opens: each is a net_pcap vdev with its own RX descriptors.
MAX_PORTS_PER_RUN = 16
# Both commands get the same flow-table size: far above any test capture's flow count, far below
# the 1M default whose allocation would dominate every short run.
TEST_MAX_FLOWS = 65536


_PREFIXES = []


def _remove_runtime_dirs():
    # EAL leaves its runtime files (several MB without hugepages) in /var/run/dpdk/<prefix>; the
    # prefixes these helpers made are unique, so their directories are ours to remove.
    for prefix in _PREFIXES:
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


atexit.register(_remove_runtime_dirs)


def eal_args(lcores="(0-3)@(0-1)"):
    """EAL arguments for this machine: no hugepages, no PCI, a unique file prefix per run so
    runs never share DPDK runtime state."""
    prefix = "mdr" + uuid.uuid4().hex[:10]
    _PREFIXES.append(prefix)
    return ["--no-huge", "--no-pci", "--file-prefix", prefix, "-m", "512",
            "--lcores", lcores, "--log-level", "lib.eal:warning"]


def list_args():
    args = ["--protected", PROTECTED]
    if os.path.exists(ALLOW):
        args += ["--allow", ALLOW]
    return args


def read_records(path):
    records = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    return records


def alert_key(record):
    """What parity compares: the flow (client → server), the recipient, the kind, accepted."""
    m = record.get("misdirect", {})
    return (record.get("src_ip"), record.get("src_port"), record.get("dest_ip"),
            record.get("dest_port"), m.get("recipient"), m.get("kind"), m.get("accepted"))


def alert_keys(records):
    return sorted((alert_key(r) for r in records if r.get("event_type") == "alert"),
                  key=lambda k: tuple("" if v is None else str(v) for v in k))


def final_stats(records):
    """The last stats record, whole: Suricata's figures under `stats`, misdirect's under
    `misdirect` (docs/records.md)."""
    stats = [r for r in records if r.get("event_type") == "stats"]
    if not stats:
        return None
    return stats[-1]


def worker_threads(record):
    """Each worker's own misdirect figures (misdirect.threads.W#nn), in worker order."""
    threads = record["misdirect"].get("threads", {})
    return [threads[name] for name in sorted(threads) if name.startswith("W#")]


def run_replay(pcap, timeout=300):
    """Alert keys `misdirect replay` gives for one capture (a cut capture still counts: replay
    processes what is readable and exits 1)."""
    with tempfile.TemporaryDirectory(prefix="mdr-replay-") as tmp:
        eve = os.path.join(tmp, "eve.json")
        proc = subprocess.run([BINARY, "replay", *list_args(), "--eve", eve,
                               "--max-flows", str(TEST_MAX_FLOWS), pcap],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if proc.returncode not in (0, 1) or not os.path.exists(eve):
            raise AssertionError(f"replay {pcap} failed ({proc.returncode}): "
                                 f"{proc.stderr.decode(errors='replace')}")
        return read_records(eve)


def run_live_files(pcaps, workers, wall_clock=False, extra=(), timeout=300):
    """Runs `misdirect live` over one net_pcap port per capture until end of input; returns
    (records, stderr text)."""
    vdevs = []
    for index, pcap in enumerate(pcaps):
        vdevs += ["--vdev", f"net_pcap{index},rx_pcap={pcap}"]
    with tempfile.TemporaryDirectory(prefix="mdr-live-") as tmp:
        eve = os.path.join(tmp, "eve.json")
        cmd = [BINARY, "live", *eal_args(), *vdevs, "--", *list_args(), "--eve", eve,
               "--workers", str(workers), "--exit-on-eof", "--lossless", "--stats-interval", "0",
               "--mbufs", "8191", "--max-frame", "2048", "--rx-descriptors", "256",
               "--eof-idle-ms", "300", "--max-flows", str(TEST_MAX_FLOWS)]
        if wall_clock:
            cmd.append("--wall-clock")
        cmd += list(extra)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        stderr = proc.stderr.decode(errors="replace")
        if proc.returncode != 0:
            raise AssertionError(f"live exited {proc.returncode}: {' '.join(cmd)}\n{stderr}")
        return read_records(eve), stderr


class LiveProcess:
    """A `misdirect live` running in the background, stopped with SIGINT."""

    def __init__(self, args, eve_path, prefix=()):
        """`prefix` runs the binary under another command (`ip netns exec NS`)."""
        self.eve_path = eve_path
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([*prefix, BINARY, "live", *args], stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_file)

    def wait_running(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "running:" in self.stderr():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"live exited early ({self.proc.returncode}):\n{self.stderr()}")
            time.sleep(0.05)
        raise AssertionError(f"live did not start within {timeout} s:\n{self.stderr()}")

    def stderr(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode(errors="replace")

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"live did not stop within {timeout} s after SIGINT")
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr_file.close()


# --- Captures -------------------------------------------------------------------------------

def all_captures():
    found = sorted(set(glob.glob(os.path.join(PCAPS, "**", "*.pcap"), recursive=True)) |
                   set(glob.glob(os.path.join(PCAPS, "**", "*.pcapng"), recursive=True)))
    return found


def _flow_keys(frame):
    """The identities one Ethernet frame touches in a worker: its TCP/UDP 5-tuple (both
    directions alike) and, for a fragment, the fragment's datagram key. VLAN ids are left out, so
    captures that differ only by VLAN are treated as overlapping (the safe side)."""
    keys = []
    offset = 12
    while offset + 2 <= len(frame):
        ether_type = struct.unpack_from("!H", frame, offset)[0]
        if ether_type in (0x8100, 0x88A8, 0x9100):
            offset += 4
            continue
        offset += 2
        break
    else:
        return keys
    proto = None
    l4 = None
    if ether_type == 0x0800 and offset + 20 <= len(frame):
        ihl = (frame[offset] & 0x0F) * 4
        src, dst = frame[offset + 12:offset + 16], frame[offset + 16:offset + 20]
        proto = frame[offset + 9]
        ident, flags_fragment = struct.unpack_from("!HH", frame, offset + 4)
        fragment_offset = flags_fragment & 0x1FFF
        more = flags_fragment & 0x2000
        if fragment_offset or more:
            keys.append(("frag4", min(src, dst), max(src, dst), ident))
        if fragment_offset == 0:
            l4 = offset + ihl
    elif ether_type == 0x86DD and offset + 40 <= len(frame):
        src, dst = frame[offset + 8:offset + 24], frame[offset + 24:offset + 40]
        proto = frame[offset + 6]
        l4 = offset + 40
        for _ in range(8):
            if proto in (0, 43, 60) and l4 + 2 <= len(frame):
                proto, l4 = frame[l4], l4 + (frame[l4 + 1] + 1) * 8
            elif proto == 44 and l4 + 8 <= len(frame):
                fragment_offset = struct.unpack_from("!H", frame, l4 + 2)[0] >> 3
                ident = struct.unpack_from("!I", frame, l4 + 4)[0]
                keys.append(("frag6", min(src, dst), max(src, dst), ident))
                proto, l4 = frame[l4], (l4 + 8 if fragment_offset == 0 else None)
                if l4 is None:
                    break
            elif proto == 51 and l4 + 2 <= len(frame):
                proto, l4 = frame[l4], l4 + (frame[l4 + 1] + 2) * 4
            else:
                break
    else:
        return keys
    if l4 is not None and proto in (6, 17) and l4 + 4 <= len(frame):
        sport, dport = struct.unpack_from("!HH", frame, l4)
        a, b = (src, sport), (dst, dport)
        keys.append((proto, min(a, b), max(a, b)))
    return keys


def inspect_capture(path):
    """What net_pcap can do with a capture: returns (reason_to_skip or None, info) where info has
    the packet count and the flow keys."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as error:
        return f"unreadable: {error}", None
    if len(data) < 24:
        return "too short for a pcap file header", None
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return ("pcapng: net_pcap hands frames over without their interface's link type; "
                "replay covers pcapng"), None
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
              b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None:
        return "not a pcap file (bad magic)", None
    link_type = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    if link_type != 1:
        return (f"link type {link_type}: live ports deliver Ethernet only; replay covers "
                "other link types"), None
    nanoseconds = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    packets = 0
    fragments = 0
    keys = set()
    first = last = None
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, caplen, wirelen = struct.unpack_from(endian + "IIII", data, offset)
        stamp = seconds + fraction / (1e9 if nanoseconds else 1e6)
        first = stamp if first is None else min(first, stamp)
        last = stamp if last is None else max(last, stamp)
        offset += 16
        if offset + caplen > len(data):
            break
        if caplen < wirelen:
            return ("frames cut by the capture's snaplen: net_pcap passes only the captured "
                    "length, so the original length replay sees is lost"), None
        frame_keys = _flow_keys(data[offset:offset + caplen])
        fragment_keys = [k for k in frame_keys if k[0] in ("frag4", "frag6")]
        if fragment_keys:
            fragments += 1
        keys.update(frame_keys)
        packets += 1
        offset += caplen
    # DNS answers teach addresses for their TTL (seconds, in packet time) to every flow of the run:
    # such a capture keeps its own run, in capture time.
    dns = any(k[0] in (6, 17) and 53 in (k[1][1], k[2][1]) for k in keys)
    return None, {"packets": packets, "keys": keys, "first": first or 0.0, "last": last or 0.0,
                  "fragments": fragments, "dns": dns}


# Timeouts on the packet path are 5 s (gap wait) and longer. A capture spanning less than this
# fires none of them in replay, so it may share a run with any capture whose flows it does not
# touch, the run using the wall clock (the run is far shorter than 5 s). A longer capture depends
# on its own timestamps: it runs alone, in capture time (net_pcap hands them over), unless its
# window and its partners' together stay this short.
MAX_RUN_WINDOW_SECONDS = 4.0


def group_captures(infos):
    """Packs captures into live runs, each {"paths", "packets", "wall_clock"}: captures in one run
    never share a 5-tuple or fragment key, so each flow is judged as replay judges it with the
    capture alone."""
    groups = []
    for path, info in infos:
        alone = info.get("dns", False)
        short = info["last"] - info["first"] < MAX_RUN_WINDOW_SECONDS and not alone
        for group in groups:
            if alone or group.get("alone"):
                continue
            if len(group["paths"]) >= MAX_PORTS_PER_RUN or group["keys"] & info["keys"]:
                continue
            if short and group["wall_clock"]:
                break
            window = max(group["last"], info["last"]) - min(group["first"], info["first"])
            if not group["wall_clock"] and window < MAX_RUN_WINDOW_SECONDS:
                break
        else:
            group = {"paths": [], "keys": set(), "packets": 0, "wall_clock": short,
                     "first": info["first"], "last": info["last"], "alone": alone}
            groups.append(group)
        group["paths"].append(path)
        group["keys"] |= info["keys"]
        group["packets"] += info["packets"]
        group["fragments"] = group.get("fragments", 0) + info["fragments"]
        group["first"] = min(group["first"], info["first"])
        group["last"] = max(group["last"], info["last"])
    return groups
