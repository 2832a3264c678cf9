// PrometheusExposition: names sanitised, labels escaped, HELP/TYPE once per family, keyed
// collections as labels, levels as gauges, every sample line in the 0.0.4 text format.
#include "dataplane/output/prometheus_exposition.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/output/stats_record.h"

namespace misdirect::dataplane {
namespace {

enum class ToyCounter : uint16_t { kPackets, kGaps, kCount };
constexpr CounterInfo kToyInfo[] = {
    {"packets", "frames decoded"},
    {"gaps", "holes\\skipped\nin streams"},
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// A record as the live sensor makes it: two worker threads, one port with texts.
StatsNode two_thread_record() {
  StatsNode record;
  start_stats_record(record, 1'700'000'000'000'000'000ull, 7, "sensor-1");
  for (uint32_t id = 0; id < 2; ++id) {
    StatsNode thread;
    CounterArray<ToyCounter> counters;
    counters.add(ToyCounter::kPackets, 10 + id);
    counters.add(ToyCounter::kGaps, id);
    add_counter_table(thread, "stats.decoder", counters, kToyInfo);
    thread.at_path("stats.flow").add("active", 3);
    thread.at_path("misdirect.smtp").add("alerts", 1);
    add_thread_stats(record, worker_thread_name(id), thread);
  }
  StatsNode& port = record.at_path("stats.capture.ports.0");
  port.set_text("name", "net_pcap\"0\"\\x");
  port.add("kernel_packets", 21);
  record.at_path("misdirect.sensor").set_flag("final", true);
  StatsNode& by_kind = record.at_path("misdirect.alerts_by_kind");
  by_kind.add("tld-swap", 2);
  by_kind.add("homoglyph", 0);
  by_kind.child("tld-swap").set_help("alerts of this kind");
  return record;
}

BOOST_AUTO_TEST_SUITE(prometheus_exposition)

BOOST_AUTO_TEST_CASE(names_are_sanitised_to_the_metric_name_alphabet) {
  BOOST_TEST(PrometheusExposition::sanitise_name("app_layer") == "app_layer");
  BOOST_TEST(PrometheusExposition::sanitise_name("ip-in-ip") == "ip_in_ip");
  BOOST_TEST(PrometheusExposition::sanitise_name("W#01.x y") == "W_01_x_y");
  BOOST_TEST(PrometheusExposition::sanitise_name("") == "_");
  StatsNode tree;
  tree.add("9lives", 1);
  PrometheusExposition page;
  page.add_tree(tree, "", "odd");
  // A name may not start with a digit.
  BOOST_TEST(page.text().find("\n_9lives_total 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(label_values_and_help_texts_are_escaped) {
  std::string out;
  PrometheusExposition::append_label_value("a\\b\"c\nd", out);
  BOOST_TEST(out == "a\\\\b\\\"c\\nd");
  out.clear();
  // HELP escapes backslash and newline only; a quote stays as it is.
  PrometheusExposition::append_help_text("a\\b\"c\nd", out);
  BOOST_TEST(out == "a\\\\b\"c\\nd");
}

BOOST_AUTO_TEST_CASE(a_record_renders_totals_threads_ports_and_levels) {
  PrometheusExposition page;
  page.add_record(two_thread_record(), "misdirect");
  const std::string text = page.text();
  BOOST_TEST_INFO(text);
  const std::vector<std::string> lines = lines_of(text);
  const auto has = [&lines](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  BOOST_TEST(has("# HELP misdirect_decoder_packets_total frames decoded (stats.decoder.packets)"));
  BOOST_TEST(has("# TYPE misdirect_decoder_packets_total counter"));
  BOOST_TEST(has("misdirect_decoder_packets_total 21"));
  BOOST_TEST(has("# HELP misdirect_decoder_gaps_total holes\\\\skipped\\nin streams (stats.decoder.gaps)"));
  BOOST_TEST(has("misdirect_thread_decoder_packets_total{thread=\"W#01\"} 10"));
  BOOST_TEST(has("misdirect_thread_decoder_packets_total{thread=\"W#02\"} 11"));
  BOOST_TEST(has("# HELP misdirect_thread_decoder_packets_total frames decoded "
                 "(stats.threads.<thread>.decoder.packets)"));
  BOOST_TEST(has("misdirect_thread_smtp_alerts_total{thread=\"W#02\"} 1"));
  BOOST_TEST(has("misdirect_smtp_alerts_total 2"));
  // Levels and flags are gauges without _total.
  BOOST_TEST(has("# TYPE misdirect_flow_active gauge"));
  BOOST_TEST(has("misdirect_flow_active 6"));
  BOOST_TEST(has("# TYPE misdirect_uptime gauge"));
  BOOST_TEST(has("misdirect_uptime 7"));
  BOOST_TEST(has("misdirect_sensor_final 1"));
  // A port's key and texts label its numbers, escaped.
  BOOST_TEST(has("misdirect_capture_port_kernel_packets_total{port=\"0\",name=\"net_pcap\\\"0\\\"\\\\x\"} 21"));
  // A keyed collection of plain figures: one family, the key as its label.
  BOOST_TEST(has("# HELP misdirect_alerts_by_kind_total alerts of this kind (misdirect.alerts_by_kind.<kind>)"));
  BOOST_TEST(has("misdirect_alerts_by_kind_total{kind=\"tld-swap\"} 2"));
  BOOST_TEST(has("misdirect_alerts_by_kind_total{kind=\"homoglyph\"} 0"));
  // Texts of the record itself are not samples.
  BOOST_TEST(text.find("timestamp") == std::string::npos);
  BOOST_TEST(text.find("event_type") == std::string::npos);
  BOOST_TEST(page.duplicate_series() == 0u);
}

BOOST_AUTO_TEST_CASE(help_and_type_come_once_per_family_before_all_its_samples) {
  PrometheusExposition page;
  page.add_record(two_thread_record(), "misdirect");
  // A second tree adding to a family already on the page (in a different order) joins it.
  StatsNode more;
  more.at_path("thread_decoder").add("packets", 5);
  page.add_tree(more, "misdirect", "more");
  const std::vector<std::string> lines = lines_of(page.text());
  std::map<std::string, int> helps;
  std::map<std::string, int> types;
  std::string current;
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? [0-9]+)");
  for (const std::string& line : lines) {
    std::smatch match;
    if (std::regex_match(line, match, help)) {
      current = match[1];
      BOOST_TEST(++helps[current] == 1, "HELP twice for " << current);
    } else if (std::regex_match(line, match, type)) {
      BOOST_TEST(match[1] == current, "TYPE not right after its HELP: " << line);
      BOOST_TEST(++types[current] == 1, "TYPE twice for " << current);
    } else if (std::regex_match(line, match, sample)) {
      BOOST_TEST(match[1] == current, "sample outside its family: " << line);
    } else {
      BOOST_FAIL("not a line of the exposition format: " << line);
    }
  }
  BOOST_TEST(helps.size() == types.size());
  BOOST_TEST(helps.count("misdirect_thread_decoder_packets_total") == 1u);
}

BOOST_AUTO_TEST_CASE(a_series_met_twice_keeps_its_first_value_and_is_counted) {
  StatsNode tree;
  tree.at_path("a").add("b_c", 1);
  tree.at_path("a_b").add("c", 2);  // sanitised to the same name, no labels
  PrometheusExposition page;
  page.add_tree(tree, "x", "twice");
  const std::string text = page.text();
  BOOST_TEST(text.find("x_a_b_c_total 1\n") != std::string::npos);
  BOOST_TEST(text.find("x_a_b_c_total 2\n") == std::string::npos);
  BOOST_TEST(page.duplicate_series() == 1u);
}

BOOST_AUTO_TEST_CASE(counter_help_survives_merging_threads) {
  StatsNode thread;
  CounterArray<ToyCounter> counters;
  add_counter_table(thread, "stats.decoder", counters, kToyInfo);
  StatsNode record;
  add_thread_stats(record, worker_thread_name(0), thread);
  BOOST_TEST(record.find_path("stats.decoder.packets")->help() == "frames decoded");
  BOOST_TEST(record.find_path("stats.threads.W#01.decoder.packets")->help() == "frames decoded");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::dataplane
