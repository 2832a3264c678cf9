// Tests for ReplayProgress: the progress line, its timing (quiet start, interval) and the summary.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>

#include "control/replay_progress.h"

using misdirect::control::ReplayProgress;
using misdirect::control::ReplayTally;

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

ReplayTally sample() {
  ReplayTally tally;
  tally.file_index = 2;
  tally.file_count = 5;
  tally.file_name = "big.pcap.gz";
  tally.stored_bytes_read = 1'210'000'000;
  tally.stored_bytes_total = 3'400'000'000;
  tally.packets = 8'520'311;
  tally.smtp_sessions = 1204;
  tally.recipients = 3310;
  tally.alerts = 12;
  return tally;
}

std::string read_all(std::FILE* file) {
  std::rewind(file);
  std::string text;
  char buffer[512];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
    text.append(buffer, got);
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_progress)

BOOST_AUTO_TEST_CASE(line_with_known_size_has_percent_rate_and_eta) {
  // 1.21 GB in 21 s is 57.6 MB/s; 2.19 GB left take 38 s.
  BOOST_TEST(ReplayProgress::format_line(sample(), 21 * kSecond) ==
             "replay: 2/5 big.pcap.gz  1.21 GB of 3.40 GB (35%)  8.52M packets  406k packets/s  "
             "57.6 MB/s  12 alerts  ETA 0:00:38");
}

BOOST_AUTO_TEST_CASE(line_for_a_pipe_has_no_eta) {
  ReplayTally tally = sample();
  tally.file_count = 1;
  tally.file_name = "standard input";
  tally.stored_bytes_total = 0;
  tally.stored_bytes_read = 9000;
  tally.packets = 120;
  tally.alerts = 1;
  BOOST_TEST(ReplayProgress::format_line(tally, 2 * kSecond) ==
             "replay: standard input  9000 B read  120 packets  60 packets/s  4500 B/s  1 alert");
}

BOOST_AUTO_TEST_CASE(summary) {
  BOOST_TEST(ReplayProgress::format_summary(sample(), 21'340'000'000) ==
             "replay: 5 files, 8520311 packets, 1204 SMTP sessions, 3310 recipients, 12 alerts in 21.3 s");
  ReplayTally one;
  one.file_count = 1;
  one.packets = 1;
  one.smtp_sessions = 1;
  one.recipients = 1;
  one.alerts = 1;
  BOOST_TEST(ReplayProgress::format_summary(one, 0) ==
             "replay: 1 file, 1 packet, 1 SMTP session, 1 recipient, 1 alert in 0.0 s");
}

BOOST_AUTO_TEST_CASE(quiet_start_then_one_line_per_interval) {
  std::FILE* out = std::tmpfile();
  BOOST_REQUIRE(out != nullptr);
  const uint64_t start = 1000 * kSecond;
  ReplayProgress progress(out, start);
  const ReplayTally tally = sample();
  progress.update(tally, start + kSecond);  // too early: quick runs stay quiet
  BOOST_TEST(read_all(out).empty());
  std::fseek(out, 0, SEEK_END);
  progress.update(tally, start + 2 * kSecond);
  progress.update(tally, start + 2 * kSecond + ReplayProgress::kIntervalNs / 2);  // within the interval
  progress.update(tally, start + 3 * kSecond);
  progress.end();
  const std::string text = read_all(out);
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = text.find("\rreplay: 2/5", at)) != std::string::npos; ++at) {
    ++lines;
  }
  BOOST_TEST(lines == 2u);
  BOOST_TEST(text.ends_with("\r\x1b[K"), "end() clears the line");
  std::fclose(out);
}

BOOST_AUTO_TEST_CASE(disabled_prints_nothing) {
  ReplayProgress progress(nullptr, 0);
  BOOST_TEST(!progress.enabled());
  progress.update(sample(), 100 * kSecond);
  progress.end();
}

BOOST_AUTO_TEST_SUITE_END()
