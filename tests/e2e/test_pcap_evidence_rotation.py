"""Evidence pcaps kept within their bounds (docs/records.md, "Evidence"): `--evidence-max-mb` removes
the oldest files once the run's files would pass the cap, `--evidence-max-files` bounds how many
stay, a flow whose file alone would pass the cap stops growing there, and `misdirect.evidence` in the
stats record counts every file and frame that was not kept.

The captures are built here (tests/pcapgen's TcpFlow): SMTP sessions one after another, each with one
look-alike recipient and a DATA body of a few hundred KiB, so that a handful of flows pass 1 MiB
(the smallest cap) and each flow's file size is known from a run without bounds.
"""
import os
import struct
import sys
import tempfile
import unittest

import misdirect_e2e as e2e

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pcapgen"))
from capture import Capture, TcpFlow  # noqa: E402

CLIENT = "192.0.2.10"
SERVER = "198.51.100.25"
MIB = 1 << 20
SEGMENT_BYTES = 1400


def session_capture(path, body_bytes):
    """One SMTP session per entry of `body_bytes`, one after another, client ports 42000, 42001, ...;
    each has one accepted look-alike recipient and a DATA body of that many bytes."""
    cap = Capture("evidence-rotation")
    for index, size in enumerate(body_bytes):
        flow = TcpFlow(cap, (CLIENT, 42000 + index), (SERVER, 25))
        flow.handshake()
        flow.greet()
        flow.cmd("MAIL FROM:<alice@example.org>", "250 2.1.0 Ok")
        flow.cmd(f"RCPT TO:<user{index}@army.ml>", "250 2.1.5 Ok")
        flow.cmd("DATA", "354 End data with <CR><LF>.<CR><LF>")
        line = b"x" * 76 + b"\r\n"
        body = b"Subject: evidence\r\n\r\n" + line * (size // len(line)) + b".\r\n"
        for offset in range(0, len(body), SEGMENT_BYTES):
            flow.c(body[offset:offset + SEGMENT_BYTES])
        flow.s("250 2.0.0 Ok: queued\r\n")
        flow.quit()
    with open(path, "wb") as out:
        out.write(cap.file_bytes())


def pcap_frames(path):
    """Captured bytes of each frame of a classic pcap (µs or ns, either byte order)."""
    with open(path, "rb") as stream:
        data = stream.read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    frames = []
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack_from(endian + "I", data, offset + 8)[0]
        frames.append(data[offset + 16:offset + 16 + caplen])
        offset += 16 + caplen
    return frames


def evidence_counter(replay, name):
    (value,) = e2e.find_values(replay.records[-1], f"misdirect.evidence.{name}") or [None]
    return value


class EvidenceRotationTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        e2e.require_binary()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="misdirect-evidence-rotation-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def evidence_run(self, capture, *bounds):
        """Replays `capture` keeping evidence in a fresh directory. Returns (replay, {client port:
        file size} of the files left, client ports in the order their flows alerted)."""
        directory = tempfile.mkdtemp(dir=self.tmp)
        replay = e2e.run_replay([capture], extra=["--evidence-dir", directory, *bounds])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        port_of = {}
        order = []
        for alert in replay.alerts:
            port_of[os.path.basename(alert["capture_file"])] = alert["src_port"]
            if alert["src_port"] not in order:
                order.append(alert["src_port"])
        kept = {port_of[name]: os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory)}
        replay.directory = directory
        return replay, kept, order

    def test_size_cap_removes_the_oldest_files_and_counts_them(self):
        capture = os.path.join(self.tmp, "six-sessions.pcap")
        session_capture(capture, [300_000] * 6)
        whole, sizes, order = self.evidence_run(capture)
        self.assertEqual(len(sizes), 6, "every alerting flow keeps its file without bounds")
        self.assertGreater(sum(sizes.values()), MIB, "the flows together must pass the 1 MiB cap")
        # Flows come one after another, so what stays is the longest run of the newest files that
        # fits in 1 MiB.
        expected = []
        for port in reversed(order):
            if sum(sizes[p] for p in expected) + sizes[port] > MIB:
                break
            expected.append(port)
        self.assertTrue(0 < len(expected) < 6)

        capped, kept, _ = self.evidence_run(capture, "--evidence-max-mb", "1")
        self.assertEqual(sorted(kept), sorted(expected))
        self.assertLessEqual(sum(kept.values()), MIB)
        # What stays is whole: the same bytes as without a cap.
        self.assertEqual(kept, {port: sizes[port] for port in expected})
        self.assertEqual(evidence_counter(capped, "files_created"), 6)
        self.assertEqual(evidence_counter(capped, "files_removed_size"), 6 - len(expected))
        self.assertEqual(evidence_counter(capped, "files_removed_count"), 0)
        self.assertEqual(evidence_counter(capped, "frames_over_size"), 0)
        self.assertEqual(evidence_counter(capped, "bytes_written"), evidence_counter(whole, "bytes_written"))
        # Every alert still names its flow's file, kept or not.
        self.assertEqual(len(capped.alerts), 6)

    def test_file_count_bounds_before_the_size_cap(self):
        capture = os.path.join(self.tmp, "five-sessions.pcap")
        session_capture(capture, [100_000] * 5)
        _, sizes, order = self.evidence_run(capture)
        self.assertLess(sum(sizes.values()), MIB)
        replay, kept, _ = self.evidence_run(capture, "--evidence-max-mb", "1", "--evidence-max-files", "2")
        self.assertEqual(sorted(kept), sorted(order[-2:]))
        self.assertEqual(evidence_counter(replay, "files_removed_count"), 3)
        self.assertEqual(evidence_counter(replay, "files_removed_size"), 0)
        for name in os.listdir(replay.directory):
            again = e2e.run_replay([os.path.join(replay.directory, name)])
            self.assertEqual(len(again.alerts), 1, again.stderr)

    def test_a_flow_larger_than_the_cap_stops_at_the_cap(self):
        capture = os.path.join(self.tmp, "one-large-session.pcap")
        session_capture(capture, [1_300_000])
        whole, sizes, _ = self.evidence_run(capture)
        (full_size,) = sizes.values()
        self.assertGreater(full_size, MIB)
        capped, kept, _ = self.evidence_run(capture, "--evidence-max-mb", "1")
        (size,) = kept.values()
        self.assertLessEqual(size, MIB)
        (name,) = os.listdir(capped.directory)
        (whole_name,) = os.listdir(whole.directory)
        frames = pcap_frames(os.path.join(capped.directory, name))
        all_frames = pcap_frames(os.path.join(whole.directory, whole_name))
        # The file is the flow's beginning (the alert's packets are in it); the rest is counted.
        self.assertGreater(len(frames), 0)
        self.assertTrue(frames == all_frames[:len(frames)],
                        f"the capped file's {len(frames)} frames are not the flow's first ones")
        self.assertEqual(evidence_counter(capped, "frames_over_size"), len(all_frames) - len(frames))
        self.assertEqual(evidence_counter(capped, "frames_written"), len(frames))
        self.assertEqual(evidence_counter(capped, "frames_queued"), len(all_frames))
        self.assertEqual(evidence_counter(capped, "files_removed_size"), 0)
        again = e2e.run_replay([os.path.join(capped.directory, name)])
        self.assertEqual([e2e.alert_key(a) for a in again.alerts], [e2e.alert_key(a) for a in capped.alerts])


if __name__ == "__main__":
    unittest.main()
