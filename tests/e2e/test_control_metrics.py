"""control suite: `--metrics-listen`, the Prometheus page of the real `misdirect live` sensor.

The sensor reads a bundled capture through a net_pcap vdev (no --exit-on-eof, so it keeps running
with every figure settled once the file is read) and serves its control socket and the metrics
page on a kernel-chosen loopback port. The page is scraped with urllib, every line is parsed
with a strict reading of the text exposition format 0.0.4, and every number of the socket's
`stats` tree is looked up on the page with the same value. Hostile HTTP clients (a header that
never ends, garbage) must never stop the control socket from answering `ping`.

Needs root (EAL without hugepages).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import live_e2e  # noqa: E402

CAPTURE = os.path.join(live_e2e.PCAPS, "kinds.pcap")
CAPTURE_FRAMES = 57
START_TIMEOUT_S = 90
SOCKET_TIMEOUT_S = 20

# The text exposition format 0.0.4, strictly: metric and label names, escaped label values, an
# integer or float value, no timestamp (the sensor writes none).
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABEL = rf"{LABEL_NAME}={LABEL_VALUE}"
HELP_LINE = re.compile(rf"# HELP ({NAME}) ((?:[^\\\n]|\\[\\n])*)")
TYPE_LINE = re.compile(rf"# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)")
SAMPLE_LINE = re.compile(rf"({NAME})(\{{{LABEL}(?:,{LABEL})*\}})? ([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)")
LABEL_PAIR = re.compile(rf"({LABEL_NAME})=({LABEL_VALUE})")

KEYED = {"threads": "thread", "ports": "port", "alerts_by_kind": "kind"}


def unescape(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value[1:-1])


def parse_page(test, text):
    """Every line checked; returns ({(name, labels): value}, {family: type})."""
    test.assertTrue(text.endswith("\n"), "the page ends with a newline")
    series = {}
    types = {}
    helps = set()
    family = None
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number}: {line!r}"
        if line.startswith("# HELP "):
            match = HELP_LINE.fullmatch(line)
            test.assertIsNotNone(match, where)
            test.assertNotIn(match[1], helps, "HELP twice for one family, " + where)
            helps.add(match[1])
            family = match[1]
            continue
        if line.startswith("# TYPE "):
            match = TYPE_LINE.fullmatch(line)
            test.assertIsNotNone(match, where)
            test.assertEqual(match[1], family, "TYPE not right after its HELP, " + where)
            test.assertNotIn(match[1], types, "TYPE twice for one family, " + where)
            types[match[1]] = match[2]
            continue
        match = SAMPLE_LINE.fullmatch(line)
        test.assertIsNotNone(match, "not a line of the exposition format, " + where)
        test.assertEqual(match[1], family, "a sample outside its family, " + where)
        test.assertIn(family, types, "a sample before its TYPE, " + where)
        labels = tuple((name, unescape(value)) for name, value in LABEL_PAIR.findall(match[2] or ""))
        key = (match[1], labels)
        test.assertNotIn(key, series, "one series twice, " + where)
        series[key] = float(match[3])
        if types[family] == "counter":
            test.assertTrue(family.endswith("_total"), "a counter without _total, " + where)
    test.assertEqual(helps, set(types), "every family has HELP and TYPE")
    return series, types


def sanitise(part):
    return re.sub(r"[^a-zA-Z0-9_]", "_", part) or "_"


def tree_series(tree, prefix):
    """{(base name, labels): value} for every number and flag of a stats tree, by the rules of
    dataplane/output/prometheus_exposition.h (the page adds _total to counters)."""
    found = {}

    def walk(node, name, labels):
        for key, value in node.items():
            if isinstance(value, str):
                continue
            if isinstance(value, bool) or isinstance(value, int):
                found[(f"{name}_{sanitise(key)}", labels)] = int(value)
            elif key in KEYED:
                for member, fields in value.items():
                    if isinstance(fields, int):
                        found[(f"{name}_{sanitise(key)}", labels + ((KEYED[key], member),))] = fields
                        continue
                    member_labels = labels + ((KEYED[key], member),) + tuple(
                        (sanitise(k), v) for k, v in fields.items() if isinstance(v, str))
                    walk(fields, f"{name}_{KEYED[key]}", member_labels)
            else:
                walk(value, f"{name}_{sanitise(key)}", labels)

    walk(tree, prefix, ())
    return found


class Control:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(SOCKET_TIMEOUT_S)
        self.sock.connect(path)
        self.buffer = b""
        self.next_id = 1

    def ask(self, command):
        request_id = self.next_id
        self.next_id += 1
        self.sock.sendall(json.dumps({"id": request_id, "cmd": command}).encode() + b"\n")
        while True:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("the control socket closed")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            answer = json.loads(line)
            if answer.get("id") == request_id:
                return answer

    def close(self):
        self.sock.close()


def setUpModule():
    if not os.path.exists(live_e2e.BINARY):
        raise unittest.SkipTest(f"no misdirect binary at {live_e2e.BINARY}")
    if os.geteuid() != 0:
        raise unittest.SkipTest("the live sensor runs EAL without hugepages as root here")


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="misdirect-metrics-e2e-")
        cls.socket_path = os.path.join(cls.workdir, "control.sock")
        cls.stderr_path = os.path.join(cls.workdir, "stderr.log")
        cls.stderr = open(cls.stderr_path, "w")
        # ":0": no host means 127.0.0.1; port 0 lets the kernel choose a free one (logged).
        command = [live_e2e.BINARY, "live", *live_e2e.eal_args("(0-2)@(0-1)"),
                   "--vdev", f"net_pcap0,rx_pcap={CAPTURE}", "--", *live_e2e.list_args(),
                   "--control", cls.socket_path, "--eve", os.path.join(cls.workdir, "eve.json"),
                   "--metrics-listen", ":0", "--stats-interval", "0",
                   "--max-flows", str(live_e2e.TEST_MAX_FLOWS)]
        cls.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=cls.stderr)
        deadline = time.monotonic() + START_TIMEOUT_S
        cls.url = None
        while cls.url is None:
            if cls.process.poll() is not None:
                raise AssertionError(f"live exited {cls.process.returncode}: {cls.log()}")
            match = re.search(r"metrics on (http://\S+)", cls.log())
            if match and "running:" in cls.log():
                cls.url = match[1]
            elif time.monotonic() > deadline:
                cls.tearDownClass()
                raise AssertionError("the sensor did not start: " + cls.log())
            else:
                time.sleep(0.1)
        # Every frame of the capture read, and the workers' stats trees refreshed since (the socket
        # answers with each worker's newest tree, up to ~100 ms old: docs/live.md): the figures
        # stay as they are from here on.
        control = Control(cls.socket_path)

        def settled(answer):
            sensor = answer["sensor"]
            return (sensor["misdirect"]["totals"]["inspected"] >= CAPTURE_FRAMES
                    and sensor["stats"]["decoder"]["pkts"] >= CAPTURE_FRAMES)
        try:
            while not settled(control.ask("stats")):
                if time.monotonic() > deadline:
                    raise AssertionError("the capture was not read: " + cls.log())
                time.sleep(0.1)
        finally:
            control.close()

    @classmethod
    def tearDownClass(cls):
        if cls.process.poll() is None:
            cls.process.terminate()
            try:
                cls.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                cls.process.kill()
                cls.process.wait()
        cls.stderr.close()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    @classmethod
    def log(cls):
        cls.stderr.flush()
        with open(cls.stderr_path, encoding="utf-8", errors="replace") as stream:
            return stream.read()

    def scrape(self):
        with urllib.request.urlopen(self.url, timeout=SOCKET_TIMEOUT_S) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            return response.read().decode("utf-8")

    def socket_stats(self):
        control = Control(self.socket_path)
        try:
            answer = control.ask("stats")
        finally:
            control.close()
        self.assertTrue(answer["ok"], answer)
        return answer

    def test_an_address_without_host_listens_on_loopback(self):
        self.assertTrue(self.url.startswith("http://127.0.0.1:"), self.url)
        self.assertTrue(self.url.endswith("/metrics"), self.url)

    def test_every_line_parses_and_every_stats_figure_is_on_the_page_with_its_value(self):
        series, types = parse_page(self, self.scrape())
        stats = self.socket_stats()
        expected = {}
        for half in ("stats", "misdirect"):
            expected.update(tree_series(stats["sensor"][half], "misdirect"))
        self.assertGreater(len(expected), 400)
        checked = 0
        for (base, labels), value in expected.items():
            if base in types:
                self.assertEqual(types[base], "gauge", base)
                name = base
            else:
                name = base + "_total"
                self.assertEqual(types.get(name), "counter", f"{base} is not on the page")
            self.assertIn((name, labels), series, f"{name}{labels} is not on the page")
            if base == "misdirect_uptime":
                continue  # the one figure that moves while the sensor idles
            self.assertEqual(series[(name, labels)], value, f"{name}{labels}")
            checked += 1
        self.assertGreater(checked, 400)
        # Known figures of the capture, by name.
        port = (("port", "0"), ("name", "net_pcap0"), ("driver", "net_pcap"), ("mode", "direct"))
        self.assertEqual(series[("misdirect_decoder_pkts_total", ())], CAPTURE_FRAMES)
        self.assertEqual(series[("misdirect_thread_decoder_pkts_total", (("thread", "W#01"),))], CAPTURE_FRAMES)
        self.assertEqual(series[("misdirect_capture_port_kernel_packets_total", port)], CAPTURE_FRAMES)
        self.assertEqual(series[("misdirect_capture_port_kernel_drops_total", port)], 0)
        with open(CAPTURE.replace(".pcap", ".expected.jsonl"), encoding="utf-8") as stream:
            expected = [json.loads(line) for line in stream if line.strip()]
        expected_alerts = len(expected)
        self.assertEqual(series[("misdirect_alerts_total", ())], expected_alerts)
        # Alerts by look-alike kind: the capture's expected kinds, and they add up to all alerts.
        expected_kinds = {}
        for alert in expected:
            expected_kinds[alert["kind"]] = expected_kinds.get(alert["kind"], 0) + 1
        by_kind = {labels[0][1]: value for (name, labels), value in series.items()
                   if name == "misdirect_alerts_by_kind_total"}
        self.assertEqual(len(by_kind), 14)
        self.assertEqual({kind: count for kind, count in by_kind.items() if count}, expected_kinds)
        self.assertEqual(series[("misdirect_matcher_generation", ())], 1)
        self.assertEqual(types["misdirect_matcher_compile_microseconds"], "gauge")
        self.assertGreater(series[("misdirect_matcher_patterns", ())], 0)
        # The control socket's counters and the page's own are there too.
        self.assertIn(("misdirect_control_requests_total", ()), series)
        # A page counts the scrapes served before it.
        again, _ = parse_page(self, self.scrape())
        self.assertGreater(again[("misdirect_metrics_scrapes_total", ())],
                           series[("misdirect_metrics_scrapes_total", ())])

    def test_only_get_and_head_of_metrics_are_served(self):
        base = self.url[: -len("/metrics")]
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base + "/other", timeout=SOCKET_TIMEOUT_S)
        self.assertEqual(caught.exception.code, 404)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(urllib.request.Request(self.url, data=b"x", method="POST"),
                                   timeout=SOCKET_TIMEOUT_S)
        self.assertEqual(caught.exception.code, 405)
        head = urllib.request.urlopen(urllib.request.Request(self.url, method="HEAD"),
                                      timeout=SOCKET_TIMEOUT_S)
        self.assertEqual(head.status, 200)
        self.assertEqual(head.read(), b"")

    def test_never_ending_headers_and_garbage_do_not_stop_the_control_socket(self):
        host, port = re.match(r"http://([\d.]+):(\d+)/", self.url).groups()
        stop = threading.Event()
        slow = []

        def endless_header(connection):
            # One byte of a header that never ends, every 20 ms, until the test is done (or
            # civetweb closes the connection at its request-size bound).
            try:
                connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Endless: ")
                while not stop.wait(0.02):
                    connection.sendall(b"a")
            except OSError:
                pass

        # More slow clients than civetweb has threads, so every thread is held.
        for _ in range(4):
            connection = socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT_S)
            thread = threading.Thread(target=endless_header, args=(connection,), daemon=True)
            thread.start()
            slow.append((connection, thread))
        garbage = socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT_S)
        garbage.sendall(b"\x00\xff\x16\x03\x01 not http at all\r\n\r\n")
        try:
            time.sleep(0.5)
            control = Control(self.socket_path)
            try:
                for _ in range(20):
                    answer = control.ask("ping")
                    self.assertTrue(answer["ok"], answer)
                    time.sleep(0.05)
                self.assertTrue(control.ask("stats")["ok"])
            finally:
                control.close()
        finally:
            stop.set()
            for connection, thread in slow:
                thread.join()
                connection.close()
            garbage.close()
        # Once they are gone, scrapes are served again.
        parse_page(self, self.scrape())


class MetricsListenOptionTest(unittest.TestCase):
    def test_bad_addresses_are_refused_with_exit_2_before_the_sensor_starts(self):
        for value, problem in [("localhost:9100", "numeric IPv4"), ("1.2.3.4:99999", "port"),
                               ("[::1", "[IPv6]:PORT"), ("[nothost]:1", "IPv6"), ("abc", "port"),
                               ("1.2.3.4:", "port"), ("", "port")]:
            with self.subTest(value=value):
                proc = subprocess.run([live_e2e.BINARY, "live", "--", "--protected", live_e2e.PROTECTED,
                                       "--metrics-listen", value],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                stderr = proc.stderr.decode(errors="replace")
                self.assertEqual(proc.returncode, 2, stderr)
                self.assertIn("--metrics-listen", stderr)
                self.assertIn(problem, stderr)
                self.assertNotIn("EAL", stderr)


if __name__ == "__main__":
    unittest.main()
