// PrometheusExposition: stats trees rendered as a Prometheus metrics page (the text exposition
// format, version 0.0.4) — the third rendering of the one stats tree, beside the EVE `stats`
// record and the control socket's `stats` answer (STYLE.md 25). Nothing is gathered a second way:
// every number and flag of the tree becomes one sample, every text is left out (or, under a keyed
// collection, becomes a label of its siblings).
//
// How a tree path becomes a sample:
// - the path's parts, sanitised to [a-zA-Z0-9_] and joined by `_`, after the prefix; the record's
//   two halves (`stats`, `misdirect`) are not part of the name, since the prefix already says
//   whose figures they are: stats.decoder.pkts → misdirect_decoder_pkts_total;
// - a keyed collection turns its key into a label and its name into the singular: threads.W#01 →
//   `thread_…{thread="W#01"}`, capture.ports.0 → `capture_port_…{port="0",name=…,driver=…}` (a
//   port's texts label its numbers), so per-thread figures are a family apart from the totals and
//   sum() over a family never counts anything twice; a keyed collection of plain figures is one
//   family labelled by key: alerts_by_kind.homoglyph → `alerts_by_kind_total{kind="homoglyph"}`;
// - counts are counters (`_total`), except the levels the tree holds (kGaugeLeaves: flows active,
//   memory in use, the matcher's generation and compile time, …) and flags (0/1), which are gauges;
// - `# HELP` is the counter table's help text (StatsNode::help) and the tree path the figure has
//   in the EVE record, so a metric can always be traced back to docs/records.md;
// - `# HELP` and `# TYPE` come once per family, followed by all of its samples, whatever order the
//   trees gave them in. A series met twice (the same name and labels from two paths) keeps its
//   first value and is counted in duplicate_series() — a page must not hold one series twice.
// Cold path only: it allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dataplane/output/stats_tree.h"

namespace misdirect::dataplane {

class PrometheusExposition {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Adds an EVE stats record's tree (its `stats` and `misdirect` halves) under `prefix`.
  void add_record(const StatsNode& record, std::string_view prefix);
  // Adds any tree (the control server's counters, the metrics server's own) under `prefix`;
  // `tree_path` names the tree in the HELP texts ("control").
  void add_tree(const StatsNode& tree, std::string_view prefix, std::string_view tree_path);

  // The page, each family once: `# HELP`, `# TYPE`, then its samples, one a line.
  std::string text() const;

  std::size_t duplicate_series() const noexcept { return duplicate_series_; }

  // Exposed for the unit tests: the rules above, one piece each.
  static std::string sanitise_name(std::string_view part);
  static void append_label_value(std::string_view value, std::string& out);
  static void append_help_text(std::string_view help, std::string& out);

 private:
  struct Sample {
    Labels labels;
    uint64_t value = 0;
  };
  struct Family {
    std::string name;
    std::string help;
    bool gauge = false;
    std::vector<Sample> samples;
  };

  void walk(const StatsNode& node, const std::string& name, const std::string& path,
            const Labels& labels);
  void add_sample(const StatsNode& leaf, const std::string& name, const std::string& path,
                  const Labels& labels);

  std::vector<Family> families_;
  std::unordered_map<std::string, std::size_t> family_index_;
  std::size_t duplicate_series_ = 0;
};

}  // namespace misdirect::dataplane
