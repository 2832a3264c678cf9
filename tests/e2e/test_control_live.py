"""control suite: the control socket of the real `misdirect live` sensor.

Traffic flows while the tests talk to the socket: the sensor reads a net_pcap vdev whose rx_pcap is
a FIFO this test writes pcap records into, one SMTP session at a time (frames built by
tests/pcapgen). So the test decides exactly which sessions the sensor has seen before and after a
push, and the sensor keeps running between them.

Needs root (EAL without hugepages, setpriv for the unprivileged client).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pcapgen"))

import live_e2e  # noqa: E402  (EAL arguments and runtime-dir clean-up shared with the dpdk suite)
import packets  # noqa: E402
from capture import CLIENT_MAC, SERVER_MAC, Capture, TcpFlow, message  # noqa: E402
from pcapfile import LINKTYPE_ETHERNET, Record, classic_pcap  # noqa: E402

CTL = os.path.join(live_e2e.SOURCE, "scripts", "misdirect-ctl")
CLIENT = "192.0.2.10"
SERVER = "198.51.100.25"
START_TIMEOUT_S = 90
WAIT_TIMEOUT_S = 60
# Background frames keep the port busy: net_pcap reading a FIFO blocks in read(2) while no bytes
# come, and a worker blocked there cannot pass the quiescent point a list swap waits for. A NIC
# queue never blocks, so steady filler traffic is also the realistic case.
FILLER_INTERVAL_S = 0.01


def pcap_header():
    return classic_pcap([], LINKTYPE_ETHERNET)


class SessionWriter:
    """Builds SMTP sessions as pcap records with ever-increasing timestamps and client ports."""

    def __init__(self):
        self.capture = Capture("control-live")
        self.next_port = 41000

    def session(self, recipients, mail_from="alice@example.org"):
        """One whole session (handshake, EHLO, MAIL, RCPT each accepted, DATA, QUIT, FIN).
        Returns (client port, pcap bytes of its frames)."""
        port = self.next_port
        self.next_port += 1
        self.capture.records = []
        flow = TcpFlow(self.capture, (CLIENT, port), (SERVER, 25))
        flow.handshake()
        flow.greet()
        flow.cmd(f"MAIL FROM:<{mail_from}>", "250 2.1.0 Ok")
        for address in recipients:
            flow.cmd(f"RCPT TO:<{address}>", "250 2.1.5 Ok")
        flow.data(message())
        flow.quit()
        frames = len(self.capture.records)
        data = classic_pcap(self.capture.records, LINKTYPE_ETHERNET)[len(pcap_header()):]
        self.capture.sleep(0.1)
        return port, frames, data

    def filler(self):
        """One UDP datagram (not SMTP) at the current time. Returns (1, pcap bytes)."""
        datagram = packets.udp("192.0.2.77", "198.51.100.53", 5353, 53, b"filler")
        frame = packets.ethernet(SERVER_MAC, CLIENT_MAC, packets.ETH_IPV4,
                                 packets.ipv4("192.0.2.77", "198.51.100.53", packets.PROTO_UDP, datagram))
        record = Record(self.capture.now_ns, frame)
        self.capture.now_ns += 10_000_000
        return 1, classic_pcap([record], LINKTYPE_ETHERNET)[len(pcap_header()):]


class Client:
    """A raw control connection (the protocol, not misdirect-ctl)."""

    def __init__(self, path, timeout=WAIT_TIMEOUT_S):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, request):
        self.send(json.dumps(request).encode() + b"\n")
        while True:
            answer = self.line()
            if "ok" in answer:
                return answer

    def records_until(self, predicate):
        """Streamed records up to and including the first one `predicate` accepts."""
        records = []
        while True:
            record = self.line()
            if "ok" in record:
                continue
            records.append(record)
            if predicate(record):
                return records


class LiveSensor:
    """`misdirect live` on a FIFO-fed net_pcap port with the control socket in a temp dir."""

    def __init__(self, workdir, sessions, list_args, state_dir=None, extra=()):
        self.workdir = workdir
        self.sessions = sessions
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.fifo = os.path.join(workdir, f"traffic-{time.monotonic_ns()}.pcap")
        os.mkfifo(self.fifo)
        # O_RDWR never blocks on a FIFO and keeps it open for writing until close().
        self.writer = os.open(self.fifo, os.O_RDWR)
        os.write(self.writer, pcap_header())
        self.socket_path = os.path.join(workdir, "run", "control.sock")
        self.eve = os.path.join(workdir, "eve.json")
        self.stderr_path = os.path.join(workdir, f"stderr-{time.monotonic_ns()}.log")
        self.frames_sent = 0
        command = [live_e2e.BINARY, "live", *live_e2e.eal_args("(0-2)@(0-1)"),
                   "--vdev", f"net_pcap0,rx_pcap={self.fifo}", "--",
                   *list_args, "--control", self.socket_path, "--eve", self.eve,
                   "--stats-interval", "0", "--smtp-log", "all",
                   "--max-flows", str(live_e2e.TEST_MAX_FLOWS), *extra]
        if state_dir:
            command += ["--state-dir", state_dir]
        self.stderr = open(self.stderr_path, "w")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.filler = threading.Thread(target=self._fill, daemon=True)
        self.filler.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"misdirect live exited {self.process.returncode}: {self.log()}")
            try:
                client = Client(self.socket_path, timeout=5)
                answer = client.ask({"cmd": "ping"})
                client.close()
                if answer.get("ok"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the control socket never answered: " + self.log())
            time.sleep(0.2)

    def log(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as stream:
            return stream.read()

    def _fill(self):
        while not self.stopping.wait(FILLER_INTERVAL_S):
            with self.lock:
                frames, data = self.sessions.filler()
                self._write(frames, data)

    def _write(self, frames, data):
        self.frames_sent += frames
        view = memoryview(data)
        while view:
            view = view[os.write(self.writer, view):]

    def send_session(self, recipients):
        """Builds and writes one session between filler frames. Returns its client port."""
        with self.lock:
            port, frames, data = self.sessions.session(recipients)
            self._write(frames, data)
        return port

    def stop(self):
        """End of input, SIGTERM, wait. Returns the exit code."""
        self.stopping.set()
        if self.filler.is_alive():
            self.filler.join()
        if self.writer is not None:
            os.close(self.writer)
            self.writer = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.stderr.closed:
            self.stderr.close()
        return self.process.returncode

    def final_packets(self):
        """Frames the workers took in, from the last stats record the stopped sensor wrote."""
        stats = [r for r in live_e2e.read_records(self.eve) if r.get("event_type") == "stats"]
        if not stats:
            return None
        return sum(worker["live"]["packets"] for worker in live_e2e.worker_threads(stats[-1]))

    def stats(self, client):
        answer = client.ask({"cmd": "stats"})
        assert answer["ok"], answer
        return answer

    def worker_totals(self, stats):
        """Sums every numeric counter of every worker, by name (last path component)."""
        totals = {}

        def walk(value, key=""):
            if isinstance(value, dict):
                for inner_key, inner in value.items():
                    walk(inner, inner_key)
            elif isinstance(value, list):
                for inner in value:
                    walk(inner, key)
            elif isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value

        walk(live_e2e.worker_threads(stats["sensor"]))
        return totals

    def drops(self, stats):
        """Every counter that means a packet or record was lost on the sensor's side."""
        totals = self.worker_totals(stats)
        lost = {name: value for name, value in totals.items()
                if value and name in ("fanout_ring_full", "imissed", "rx_nombuf", "ierrors")}
        ports = stats["sensor"]["misdirect"].get("capture", {}).get("ports", {})
        for port in ports.values():
            for name in ("kernel_drops", "imissed", "rx_nombuf", "ierrors"):
                if port.get(name):
                    lost[f"port.{name}"] = port[name]
        return lost


def is_smtp_for(port):
    return lambda record: record.get("event_type") == "smtp" and record.get("src_port") == port


def alerts_in(records):
    return [r for r in records if r.get("event_type") == "alert"]


def write_list(path, domains):
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("".join(domain + "\n" for domain in domains))
    return path


def setUpModule():
    if not os.path.exists(live_e2e.BINARY):
        raise unittest.SkipTest(f"no misdirect binary at {live_e2e.BINARY}")
    if os.geteuid() != 0:
        raise unittest.SkipTest("the live sensor runs EAL without hugepages as root here")


class ControlLiveTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="misdirect-control-e2e-")
        os.chmod(self.workdir, 0o755)
        self.sessions = SessionWriter()
        self.sensors = []

    def tearDown(self):
        for sensor in self.sensors:
            sensor.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, domains=("army.mil",), state_dir=None, extra=()):
        list_args = []
        if domains is not None:
            list_args = ["--protected", write_list(os.path.join(self.workdir, "protected.txt"), domains)]
        sensor = LiveSensor(self.workdir, self.sessions, list_args, state_dir, extra)
        self.sensors.append(sensor)
        return sensor

    def run_session(self, sensor, subscriber, recipients):
        """Feeds one session and returns the records streamed for it (ending at its smtp record)."""
        port = sensor.send_session(recipients)
        return subscriber.records_until(is_smtp_for(port))

    def ctl(self, sensor, *args, user=None):
        command = [sys.executable, CTL, "--socket", sensor.socket_path, "--timeout", "30", *args]
        if user is not None:
            command = ["setpriv", f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups"] + command
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def test_push_while_traffic_flows_switches_the_verdicts_without_loss(self):
        sensor = self.start(("army.mil",))
        watcher = Client(sensor.socket_path)
        self.assertEqual(watcher.ask({"cmd": "subscribe", "events": ["alert", "smtp"]})["events"],
                         ["alert", "smtp"])
        before = self.run_session(sensor, watcher, ["one@navy.ml", "two@army.ml"])
        self.assertEqual([a["misdirect"]["recipient"] for a in alerts_in(before)], ["two@army.ml"])
        first_generation = alerts_in(before)[0]["misdirect"]["generation"]

        pushed = self.ctl(sensor, "add", "--protected", "navy.mil")
        self.assertEqual(pushed.returncode, 0, pushed.stderr)
        self.assertIn(f"generation {first_generation + 1}:", pushed.stdout)

        after = self.run_session(sensor, watcher, ["one@navy.ml", "two@army.ml"])
        self.assertEqual(sorted(a["misdirect"]["recipient"] for a in alerts_in(after)),
                         ["one@navy.ml", "two@army.ml"])
        self.assertEqual({a["misdirect"]["generation"] for a in alerts_in(after)},
                         {first_generation + 1})

        stats = sensor.stats(watcher)
        self.assertEqual(sensor.drops(stats), {})
        watcher.close()
        self.assertEqual(sensor.stop(), 0, sensor.log())
        # Every frame written (sessions and filler, before and after the push) was inspected.
        self.assertEqual(sensor.final_packets(), sensor.frames_sent)

    def test_ten_thousand_protected_domains_pushed_while_traffic_flows(self):
        sensor = self.start(("army.mil",))
        watcher = Client(sensor.socket_path)
        watcher.ask({"cmd": "subscribe", "events": ["alert", "smtp"]})

        def name(i):
            letters = ""
            while len(letters) < 6 or i > 0:
                letters += chr(ord("a") + i % 26)
                i //= 26
            return letters + "bank.com"
        domains = ["army.mil"] + [name(i) for i in range(9999)]
        pusher = Client(sensor.socket_path, timeout=120)
        answer = pusher.ask({"id": 1, "cmd": "lists.set", "protected": domains})
        self.assertTrue(answer.get("ok"), answer)
        self.assertEqual(answer["protected"], 10000)
        self.assertGreater(answer["patterns"], 10000 * 100)
        self.assertGreater(answer["compile_ms"], 0)

        last = name(9998)
        records = self.run_session(sensor, watcher, ["a@army.ml", f"b@{last[:-1]}", "c@gmail.com"])
        self.assertEqual(sorted(a["misdirect"]["recipient"] for a in alerts_in(records)),
                         sorted(["a@army.ml", f"b@{last[:-1]}"]))
        self.assertEqual({a["misdirect"]["generation"] for a in alerts_in(records)}, {answer["generation"]})
        self.assertEqual(sensor.drops(sensor.stats(watcher)), {})
        pusher.close()
        watcher.close()
        self.assertEqual(sensor.stop(), 0, sensor.log())
        self.assertEqual(sensor.final_packets(), sensor.frames_sent)

    def test_a_ping_on_another_connection_is_answered_while_a_large_push_compiles(self):
        """The control thread never waits for a compile (docs/control.md): a ping sent on a
        second connection after a 20,000-domain push reached the sensor is answered before the
        push is. An ordering, not a timing, so it holds on a loaded machine."""
        sensor = self.start(("army.mil",))
        other = Client(sensor.socket_path, timeout=120)
        before = other.ask({"cmd": "stats"})
        generation = before["generation"]
        requests = before["control"]["requests"]

        def name(i):
            letters = ""
            while len(letters) < 6 or i > 0:
                letters += chr(ord("a") + i % 26)
                i //= 26
            return letters + "corp.com"
        domains = ["army.mil"] + [name(i) for i in range(19999)]
        pusher = Client(sensor.socket_path, timeout=300)
        pusher.send(json.dumps({"id": "push", "cmd": "lists.set", "protected": domains}).encode() + b"\n")
        # Wait until the sensor has taken the push (its request is counted when it is read, before
        # the compile starts); `stats` is itself answered while the compile runs.
        while other.ask({"cmd": "stats"})["control"]["requests"] < requests + 2:
            pass
        pong = other.ask({"id": "ping", "cmd": "ping"})
        self.assertTrue(pong["pong"])
        self.assertEqual(pong["generation"], generation, "the ping came after the push was published")
        pusher.sock.setblocking(False)
        try:
            early = pusher.sock.recv(1 << 16)
        except BlockingIOError:
            early = b""
        self.assertEqual(early, b"", "the push was answered before the ping on the other connection")
        pusher.sock.setblocking(True)
        pusher.sock.settimeout(300)
        answer = pusher.line()
        self.assertTrue(answer.get("ok"), answer)
        self.assertEqual(answer["id"], "push")
        self.assertEqual(answer["generation"], generation + 1)
        self.assertEqual(answer["protected"], 20000)
        self.assertEqual(other.ask({"cmd": "ping"})["generation"], generation + 1)
        pusher.close()
        other.close()
        self.assertEqual(sensor.stop(), 0, sensor.log())

    def test_a_bad_push_is_refused_and_the_old_lists_still_alert(self):
        sensor = self.start(("army.mil",))
        bad = write_list(os.path.join(self.workdir, "bad.txt"), ["navy.mil", "ar my.mil"])
        refused = self.ctl(sensor, "push", "--protected", bad)
        self.assertEqual(refused.returncode, 1)
        self.assertIn(f'{bad}:2: "ar my.mil" is not a valid domain', refused.stderr)
        watcher = Client(sensor.socket_path)
        raw = watcher.ask({"id": 9, "cmd": "lists.set", "protected": ["navy.mil", "ar my.mil"]})
        self.assertEqual(raw["error"]["code"], "invalid_domain")
        self.assertTrue(raw["error"]["message"].startswith('protected[1]: "ar my.mil" is not a valid domain'))
        self.assertEqual(watcher.ask({"cmd": "lists.get"})["protected"], ["army.mil"])
        watcher.ask({"cmd": "subscribe", "events": ["alert", "smtp"]})
        records = self.run_session(sensor, watcher, ["x@army.ml", "y@navy.ml"])
        self.assertEqual([a["misdirect"]["recipient"] for a in alerts_in(records)], ["x@army.ml"])
        watcher.close()

    def test_pushed_lists_survive_a_restart(self):
        state_dir = os.path.join(self.workdir, "state")
        sensor = self.start(("army.mil",), state_dir=state_dir)
        allow = write_list(os.path.join(self.workdir, "allow.txt"), ["navy.ml"])
        protected = write_list(os.path.join(self.workdir, "new.txt"), ["navy.mil", "af.mil"])
        pushed = self.ctl(sensor, "push", "--protected", protected, "--allow", allow)
        self.assertEqual(pushed.returncode, 0, pushed.stderr)
        self.assertEqual(sensor.stop(), 0, sensor.log())
        self.assertFalse(os.path.exists(sensor.socket_path))

        restarted = self.start(None, state_dir=state_dir)
        watcher = Client(restarted.socket_path)
        lists = watcher.ask({"cmd": "lists.get"})
        self.assertEqual((lists["protected"], lists["allow"]), (["navy.mil", "af.mil"], ["navy.ml"]))
        watcher.ask({"cmd": "subscribe", "events": ["alert", "smtp"]})
        records = self.run_session(restarted, watcher, ["a@army.ml", "b@navy.ml", "c@af.ml"])
        self.assertEqual(sorted(a["misdirect"]["recipient"] for a in alerts_in(records)), ["c@af.ml"])
        watcher.close()

    def test_an_unprivileged_user_outside_the_group_is_refused(self):
        if shutil.which("setpriv") is None:
            self.skipTest("setpriv is not installed")
        os.makedirs(os.path.join(self.workdir, "run"), mode=0o755)
        sensor = self.start(("army.mil",), extra=("--control-group", "54321"))
        # Open the file modes so that what refuses the user is SO_PEERCRED, not the filesystem.
        os.chmod(sensor.socket_path, 0o666)
        outsider = self.ctl(sensor, "ping", user=(65534, 65534))
        self.assertEqual(outsider.returncode, 2, outsider.stdout)
        self.assertIn("closed the connection", outsider.stderr)
        member = self.ctl(sensor, "ping", user=(65534, 54321))
        self.assertEqual(member.returncode, 0, member.stderr)
        watcher = Client(sensor.socket_path)
        control = sensor.stats(watcher)["control"]
        self.assertEqual(control["refused"], 1)
        watcher.close()
        self.assertIn("refused a connection from pid", sensor.log())
        self.assertIn("uid 65534 gid 65534", sensor.log())

    def test_malformed_and_oversized_input_never_stops_another_client(self):
        sensor = self.start(("army.mil",))
        steady = Client(sensor.socket_path)
        garbage = Client(sensor.socket_path)
        answer = garbage.ask({"cmd": "lists.set", "protectd": ["x.mil"]})
        self.assertEqual(answer["error"]["code"], "invalid_request")
        garbage.send(b'{"cmd": "ping",\n')
        self.assertEqual(garbage.line()["error"]["code"], "parse_error")
        garbage.send(b"\xff\xfe\x00\n")
        self.assertEqual(garbage.line()["error"]["code"], "parse_error")
        self.assertEqual(garbage.ask({"cmd": "nope"})["error"]["code"], "unknown_command")
        self.assertTrue(garbage.ask({"id": 1, "cmd": "ping"})["ok"])

        flooder = Client(sensor.socket_path)
        try:
            flooder.send(b"x" * (3 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sensor may close before every byte is written
        self.assertTrue(steady.ask({"id": 2, "cmd": "ping"})["ok"])
        self.assertEqual(flooder.line()["error"]["code"], "message_too_large")
        with self.assertRaises((ConnectionError, OSError)):
            flooder.line()

        half = Client(sensor.socket_path)
        half.send(b'{"id":3,"cmd":"pi')
        half.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(half.line()["error"]["code"], "incomplete_line")
        self.assertTrue(steady.ask({"id": 4, "cmd": "ping"})["ok"])
        self.assertEqual(steady.ask({"cmd": "stats"})["control"]["oversized"], 1)
        for client in (steady, garbage, flooder, half):
            client.close()

    def test_a_subscriber_that_never_reads_does_not_stall_the_sensor(self):
        sensor = self.start(("army.mil",))
        stalled = Client(sensor.socket_path)
        stalled.ask({"cmd": "subscribe", "events": ["alert", "smtp"]})
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader = Client(sensor.socket_path)
        reader.ask({"cmd": "subscribe", "events": ["alert", "smtp"]})
        # About 6 MB of alerts: more than the stalled subscriber's 4 MiB buffer and socket buffer.
        sessions = 150
        recipients = [f"user{i}@army.ml" for i in range(40)]
        ports = [sensor.send_session(recipients) for _ in range(sessions)]
        # The reader reads as fast as Python can, which may be slower than the sensor writes: it
        # too may lose records, but then it is told exactly how many.
        expected = sessions * (len(recipients) + 1)
        alerts = smtp = reported_lost = 0
        while alerts + smtp + reported_lost < expected:
            record = reader.line()
            kind = record.get("event_type")
            if kind == "alert":
                alerts += 1
            elif kind == "smtp" and record.get("src_port") in ports:
                smtp += 1
            elif kind == "overflow":
                reported_lost += record["dropped"]
        self.assertEqual(alerts + smtp + reported_lost, expected)
        stats = sensor.stats(reader)
        self.assertGreater(stats["control"]["subscriber_drops"], 0)
        self.assertEqual(sensor.drops(stats), {})
        # The stalled subscriber learns how much it lost once it reads.
        stalled.sock.settimeout(WAIT_TIMEOUT_S)
        overflow = None
        while overflow is None:
            record = stalled.line()
            if record.get("event_type") == "overflow":
                overflow = record
        self.assertGreater(overflow["dropped"], 0)
        for client in (stalled, reader):
            client.close()

    def test_ctl_tail_prints_one_line_per_alert_and_get_prints_the_lists(self):
        sensor = self.start(("army.mil",))
        listed = self.ctl(sensor, "get")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(listed.stdout.splitlines()[1:], ["# protected (1)", "army.mil", "# allow (0)"])
        for arguments, check in ((("tail",), self._check_human_alert),
                                 (("tail", "--json"), self._check_json_alert)):
            tail = subprocess.Popen([sys.executable, CTL, "--socket", sensor.socket_path, *arguments],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # The subscription is in place once the socket counts a subscriber.
                watcher = Client(sensor.socket_path)
                deadline = time.monotonic() + WAIT_TIMEOUT_S
                while watcher.ask({"cmd": "stats"})["control"]["subscribers"] < 1:
                    self.assertLess(time.monotonic(), deadline, "tail never subscribed")
                    time.sleep(0.1)
                watcher.close()
                sensor.send_session(["eve@army.ml"])
                check(tail.stdout.readline())
            finally:
                tail.terminate()
                tail.communicate(timeout=30)

    def _check_human_alert(self, line):
        self.assertRegex(line, r" ALERT 192\.0\.2\.10:\d+ -> 198\.51\.100\.25:25 rcpt eve@army\.ml: "
                               r"army\.ml looks like army\.mil \(tld-swap, accepted\) gen 1\n$")

    def _check_json_alert(self, line):
        record = json.loads(line)
        self.assertEqual((record["event_type"], record["misdirect"]["recipient"]), ("alert", "eve@army.ml"))


if __name__ == "__main__":
    unittest.main()
