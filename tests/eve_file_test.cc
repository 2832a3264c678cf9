// EveFile tests: records reach the file; a file that cannot be written keeps records, counts,
// warns at most once a minute, retries with back-off and on reopen, and recovers.
#include "dataplane/output/eve_file.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace misdirect::dataplane {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A scratch directory and a captured stderr for one test.
struct Scratch {
  Scratch() {
    char name[] = "/tmp/eve-file-test-XXXXXX";
    dir = mkdtemp(name);
    warnings = open_memstream(&warning_text, &warning_size);
  }
  ~Scratch() {
    std::fclose(warnings);
    std::free(warning_text);
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(dir.string() + ".away");
  }
  std::string warning_lines() {
    std::fflush(warnings);
    return std::string(warning_text, warning_size);
  }
  std::filesystem::path dir;
  std::FILE* warnings = nullptr;
  char* warning_text = nullptr;
  std::size_t warning_size = 0;
};

std::size_t count_lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

BOOST_AUTO_TEST_SUITE(eve_file)

BOOST_AUTO_TEST_CASE(records_reach_the_file_in_order) {
  Scratch scratch;
  const auto path = scratch.dir / "eve.json";
  EveFile eve(path, "test", 4096, scratch.warnings);
  std::string error;
  BOOST_REQUIRE(eve.open(error));
  BOOST_TEST(eve.append(R"({"n":1})", 0));
  BOOST_TEST(eve.append(R"({"n":2})", 0));
  BOOST_TEST(eve.flush(0));
  BOOST_TEST(read_file(path) == "{\"n\":1}\n{\"n\":2}\n");
  BOOST_TEST(eve.close(0, error));
  BOOST_TEST(eve.counters().get(EveFileCounter::kRecordsWritten) == 2u);
  BOOST_TEST(scratch.warning_lines().empty());
}

BOOST_AUTO_TEST_CASE(a_full_device_is_a_counted_failure_that_names_the_path) {
  Scratch scratch;
  EveFile eve("/dev/full", "test", 4096, scratch.warnings);
  std::string error;
  BOOST_REQUIRE(eve.open(error));
  BOOST_TEST(eve.append(R"({"n":1})", 0));
  BOOST_TEST(!eve.flush(0));
  BOOST_TEST(eve.counters().get(EveFileCounter::kWriteErrors) == 1u);
  BOOST_TEST(!eve.healthy());
  BOOST_TEST(!eve.close(kSecond, error));
  BOOST_TEST(error.find("/dev/full") != std::string::npos);
  BOOST_TEST(error.find("1 records not written") != std::string::npos);
  BOOST_TEST(scratch.warning_lines().find("/dev/full") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(failed_reopen_keeps_records_retries_with_back_off_and_recovers) {
  Scratch scratch;
  const auto path = scratch.dir / "eve.json";
  EveFile eve(path, "test", 4096, scratch.warnings);
  std::string error;
  BOOST_REQUIRE(eve.open(error));
  eve.append("a", 0);
  BOOST_TEST(eve.flush(0));
  // The directory goes away (rotation gone wrong): SIGHUP's reopen fails.
  std::filesystem::rename(scratch.dir, scratch.dir.string() + ".away");
  eve.reopen(1 * kSecond);
  BOOST_TEST(eve.counters().get(EveFileCounter::kReopenFailures) == 1u);
  BOOST_TEST(!eve.healthy());
  BOOST_TEST(eve.append("b", 2 * kSecond));
  BOOST_TEST(!eve.flush(2 * kSecond));  // first retry is due at 1 s + 1 s: it fails again
  BOOST_TEST(eve.counters().get(EveFileCounter::kReopenFailures) == 2u);
  eve.retry(3 * kSecond);                // back-off doubled: next try at 2 s + 2 s
  BOOST_TEST(eve.counters().get(EveFileCounter::kReopenFailures) == 2u);
  BOOST_TEST(eve.append("c", 3 * kSecond));
  // The path is usable again; the retry after the back-off reopens and writes what was kept.
  std::filesystem::create_directory(scratch.dir);
  eve.retry(4 * kSecond);
  BOOST_TEST(eve.healthy());
  BOOST_TEST(read_file(path) == "b\nc\n");
  BOOST_TEST(eve.append("d", 5 * kSecond));
  BOOST_TEST(eve.flush(5 * kSecond));
  BOOST_TEST(read_file(path) == "b\nc\nd\n");
  BOOST_TEST(eve.counters().get(EveFileCounter::kRecordsLost) == 0u);
  BOOST_TEST(eve.close(6 * kSecond, error), error);
  // One warning for the failures within the minute, one line for the recovery.
  const std::string warnings = scratch.warning_lines();
  BOOST_TEST(count_lines(warnings) == 2u, warnings);
  BOOST_TEST(warnings.find("writing again") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sighup_reopens_at_once_whatever_the_back_off) {
  Scratch scratch;
  const auto path = scratch.dir / "eve.json";
  EveFile eve(path, "test", 4096, scratch.warnings);
  std::string error;
  BOOST_REQUIRE(eve.open(error));
  std::filesystem::rename(scratch.dir, scratch.dir.string() + ".away");
  eve.reopen(0);
  eve.append("kept", 0);
  std::filesystem::create_directory(scratch.dir);
  eve.reopen(kSecond / 10);  // before the back-off ends
  BOOST_TEST(eve.healthy());
  BOOST_TEST(read_file(path) == "kept\n");
  BOOST_TEST(eve.counters().get(EveFileCounter::kReopens) == 1u);
}

BOOST_AUTO_TEST_CASE(a_full_buffer_loses_records_counted_and_warns_once_a_minute) {
  Scratch scratch;
  EveFile eve("/dev/full", "test", 16, scratch.warnings);
  std::string error;
  BOOST_REQUIRE(eve.open(error));
  BOOST_TEST(eve.append("0123456", 0));   // 8 bytes
  BOOST_TEST(eve.append("abcdefg", 0));   // 16 bytes: full
  BOOST_TEST(!eve.append("lost", kSecond));
  BOOST_TEST(!eve.append("lost", 2 * kSecond));
  BOOST_TEST(eve.counters().get(EveFileCounter::kRecordsLost) == 2u);
  BOOST_TEST(count_lines(scratch.warning_lines()) == 1u, scratch.warning_lines());
  BOOST_TEST(!eve.append("lost", 61 * kSecond));
  BOOST_TEST(count_lines(scratch.warning_lines()) == 2u, scratch.warning_lines());
  BOOST_TEST(!eve.close(62 * kSecond, error));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
