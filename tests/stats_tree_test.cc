// StatsTree: counter tables into one tree, sums over threads, and the one writer.
#include "dataplane/output/stats_tree.h"

#include <boost/test/unit_test.hpp>

#include <string>

#include "dataplane/output/stats_record.h"

namespace misdirect::dataplane {
namespace {

enum class ToyCounter : uint16_t { kPackets, kGaps, kOther, kCount };
constexpr CounterInfo kToyInfo[] = {
    {"packets", "frames"},
    {"gaps", "gaps"},
    {"other", "the rest"},
};
constexpr StatsPlacement kToyPlacements[] = {
    {"packets", "stats.decoder.pkts"},
    {"gaps", "stats.tcp.reassembly_gap"},
    {"gaps", "misdirect.toy.gaps_again"},
};

std::string written(const StatsNode& node) {
  std::string out;
  write_stats_json(node, out);
  return out;
}

BOOST_AUTO_TEST_SUITE(stats_tree)

BOOST_AUTO_TEST_CASE(a_table_lands_at_its_node_and_placements_move_counters) {
  CounterArray<ToyCounter> counters;
  counters.add(ToyCounter::kPackets, 3);
  counters.add(ToyCounter::kGaps, 2);
  counters.add(ToyCounter::kOther, 1);
  StatsNode record;
  add_counter_table(record, "misdirect.toy", counters, kToyInfo, kToyPlacements);
  BOOST_TEST(written(record) ==
             R"({"misdirect":{"toy":{"gaps_again":2,"other":1}},"stats":{"decoder":{"pkts":3},"tcp":{"reassembly_gap":2}}})");
}

BOOST_AUTO_TEST_CASE(threads_sum_into_the_totals_and_stay_whole_under_threads) {
  StatsNode record;
  start_stats_record(record, 1'700'000'000'000'000'000ull, 5, "sensor-1");
  for (uint32_t id = 0; id < 2; ++id) {
    StatsNode thread;
    thread.at_path("stats.decoder").add("pkts", 10 + id);
    thread.at_path("misdirect.smtp").add("alerts", 1);
    add_thread_stats(record, worker_thread_name(id), thread);
  }
  BOOST_TEST(record.find_path("stats.decoder.pkts")->count() == 21u);
  BOOST_TEST(record.find_path("stats.threads.W#01.decoder.pkts")->count() == 10u);
  BOOST_TEST(record.find_path("stats.threads.W#02.decoder.pkts")->count() == 11u);
  BOOST_TEST(record.find_path("misdirect.smtp.alerts")->count() == 2u);
  BOOST_TEST(record.find_path("misdirect.threads.W#02.smtp.alerts")->count() == 1u);
  BOOST_TEST(record.find_path("stats.uptime")->count() == 5u);
  const std::string text = written(record);
  BOOST_TEST(text.starts_with(R"({"timestamp":"2023-11-14T22:13:20.000000+0000","event_type":"stats","host":"sensor-1","stats":{"uptime":5,)"));
}

BOOST_AUTO_TEST_CASE(zero_keeps_the_nodes_and_a_refill_gives_the_same_text) {
  CounterArray<ToyCounter> counters;
  counters.add(ToyCounter::kOther, 7);
  StatsNode tree;
  add_counter_table(tree, "misdirect.toy", counters, kToyInfo);
  const std::string first = written(tree);
  tree.zero();
  BOOST_TEST(tree.find_path("misdirect.toy.other")->count() == 0u);
  add_counter_table(tree, "misdirect.toy", counters, kToyInfo);
  BOOST_TEST(written(tree) == first);
}

BOOST_AUTO_TEST_CASE(texts_and_names_are_escaped) {
  StatsNode tree;
  tree.child("ports").child("0").set_text("name", "a\"b\\c\n");
  tree.set_flag("final", true);
  BOOST_TEST(written(tree) == R"({"ports":{"0":{"name":"a\"b\\c\u000a"}},"final":true})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::dataplane
