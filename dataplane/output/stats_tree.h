// StatsTree: every figure a stats report shows, as one tree of named values — gathered from the
// counter tables of each unit (and a few levels such as flows active), then written by one writer.
//
// The EVE `stats` record, the control socket's `stats` answer (and a metrics page) are renderings
// of the same tree, so they cannot drift apart, and nothing is formatted to be parsed again.
// Cold path only: building a tree allocates.
//
// A record's tree has two halves: `stats` holds the figures Suricata also reports, under
// Suricata's names where the meaning is the same (decoder.pkts, flow.tcp, tcp.reassembly_gap,
// app_layer.tx.smtp, threads.<name>...); `misdirect` holds misdirect's own. docs/records.md lists
// every figure with the name it had before this tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/counter_table.h"

namespace misdirect::dataplane {

class StatsNode {
 public:
  enum class Kind : uint8_t { kObject, kCount, kText, kFlag };

  StatsNode() = default;
  StatsNode(const StatsNode&) = delete;
  StatsNode& operator=(const StatsNode&) = delete;
  StatsNode(StatsNode&&) = default;
  StatsNode& operator=(StatsNode&&) = default;

  // The child object called `name`, made when missing (children keep the order they were made).
  StatsNode& child(std::string_view name);
  // The child at a dotted path of our own names ("app_layer.tx"), made when missing.
  StatsNode& at_path(std::string_view dotted_path);
  const StatsNode* find(std::string_view name) const noexcept;
  // The node at a dotted path, or null.
  const StatsNode* find_path(std::string_view dotted_path) const noexcept;

  // A number: added to what the leaf holds, so gathering several workers' figures sums them.
  void add(std::string_view name, uint64_t value);
  void set_text(std::string_view name, std::string_view value);
  void set_flag(std::string_view name, bool value);
  // What the figure means, for renderings that carry it (the metrics page's `# HELP`). It must
  // outlive the tree: counter tables give their constexpr help texts, which always do.
  void set_help(std::string_view help) noexcept { help_ = help; }

  // Sets every number in the tree to 0, keeping its nodes: a tree gathered into again allocates
  // nothing (a worker lcore refills a tree primed on the control thread).
  void zero() noexcept;
  // Adds every number of `other` into this tree at the same names (texts and flags are copied).
  void merge(const StatsNode& other);

  Kind kind() const noexcept { return kind_; }
  std::string_view name() const noexcept { return name_; }
  uint64_t count() const noexcept { return count_; }
  std::string_view text() const noexcept { return text_; }
  std::string_view help() const noexcept { return help_; }
  bool flag() const noexcept { return count_ != 0; }
  std::span<const std::unique_ptr<StatsNode>> children() const noexcept { return children_; }

 private:
  StatsNode& leaf(std::string_view name, Kind kind);

  Kind kind_ = Kind::kObject;
  std::string name_;
  uint64_t count_ = 0;
  std::string text_;
  std::string_view help_;  // static storage (set_help)
  std::vector<std::unique_ptr<StatsNode>> children_;
};

// Where one counter of a table goes when it is not `<table node>.<its name>`: Suricata's name
// for the same meaning, as a path from the `stats` node, or a misdirect name elsewhere.
struct StatsPlacement {
  std::string_view counter;  // CounterInfo::name
  std::string_view path;     // dotted, from the root of the record tree ("stats.decoder.pkts")
};

// Adds a counter table: each counter at `table_node.<name>`, except those `placements` move (a
// placement may name a counter twice to show it under two names, e.g. flow.tcp and tcp.sessions).
// Each leaf carries its counter's help text.
void add_counter_table(StatsNode& root, std::string_view table_node, std::span<const uint64_t> values,
                       std::span<const CounterInfo> info, std::span<const StatsPlacement> placements = {});

template <typename Enum, std::size_t N>
void add_counter_table(StatsNode& root, std::string_view table_node, const CounterArray<Enum>& counters,
                       const CounterInfo (&info)[N], std::span<const StatsPlacement> placements = {}) {
  add_counter_table(root, table_node, counters.values(), std::span<const CounterInfo>(info, N), placements);
}

// The one writer: `node` as a JSON object (keys and texts escaped), appended to `out`.
void write_stats_json(const StatsNode& node, std::string& out);

}  // namespace misdirect::dataplane
