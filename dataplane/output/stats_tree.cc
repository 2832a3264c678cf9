// StatsTree: building the tree of figures and writing it as JSON.
#include "dataplane/output/stats_tree.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace misdirect::dataplane {

StatsNode& StatsNode::child(std::string_view name) {
  for (const auto& existing : children_) {
    if (existing->name_ == name) {
      return *existing;
    }
  }
  auto made = std::make_unique<StatsNode>();
  made->name_ = std::string(name);
  children_.push_back(std::move(made));
  return *children_.back();
}

StatsNode& StatsNode::at_path(std::string_view dotted_path) {
  StatsNode* node = this;
  while (!dotted_path.empty()) {
    const std::size_t dot = dotted_path.find('.');
    node = &node->child(dotted_path.substr(0, dot));
    dotted_path = dot == std::string_view::npos ? std::string_view() : dotted_path.substr(dot + 1);
  }
  return *node;
}

const StatsNode* StatsNode::find(std::string_view name) const noexcept {
  for (const auto& existing : children_) {
    if (existing->name_ == name) {
      return existing.get();
    }
  }
  return nullptr;
}

const StatsNode* StatsNode::find_path(std::string_view dotted_path) const noexcept {
  const StatsNode* node = this;
  while (node != nullptr && !dotted_path.empty()) {
    const std::size_t dot = dotted_path.find('.');
    node = node->find(dotted_path.substr(0, dot));
    dotted_path = dot == std::string_view::npos ? std::string_view() : dotted_path.substr(dot + 1);
  }
  return node;
}

StatsNode& StatsNode::leaf(std::string_view name, Kind kind) {
  StatsNode& node = child(name);
  node.kind_ = kind;
  return node;
}

void StatsNode::add(std::string_view name, uint64_t value) { leaf(name, Kind::kCount).count_ += value; }

void StatsNode::set_text(std::string_view name, std::string_view value) {
  leaf(name, Kind::kText).text_ = std::string(value);
}

void StatsNode::set_flag(std::string_view name, bool value) { leaf(name, Kind::kFlag).count_ = value ? 1 : 0; }

void StatsNode::zero() noexcept {
  if (kind_ == Kind::kCount) {
    count_ = 0;
  }
  for (const auto& entry : children_) {
    entry->zero();
  }
}

void StatsNode::merge(const StatsNode& other) {
  for (const auto& source : other.children_) {
    if (!source->help_.empty()) {
      child(source->name_).help_ = source->help_;
    }
    switch (source->kind_) {
      case Kind::kObject:
        child(source->name_).merge(*source);
        break;
      case Kind::kCount:
        add(source->name_, source->count_);
        break;
      case Kind::kText:
        set_text(source->name_, source->text_);
        break;
      case Kind::kFlag:
        set_flag(source->name_, source->flag());
        break;
    }
  }
}

void add_counter_table(StatsNode& root, std::string_view table_node, std::span<const uint64_t> values,
                       std::span<const CounterInfo> info, std::span<const StatsPlacement> placements) {
  StatsNode& table = root.at_path(table_node);
  // A placement that names no counter of the table is a slip (a renamed counter would silently
  // fall back to its table's node).
  for (const StatsPlacement& placement : placements) {
    assert(std::any_of(info.begin(), info.end(),
                       [&](const CounterInfo& counter) { return counter.name == placement.counter; }));
    (void)placement;
  }
  for (std::size_t i = 0; i < info.size() && i < values.size(); ++i) {
    bool placed = false;
    for (const StatsPlacement& placement : placements) {
      if (placement.counter != info[i].name) {
        continue;
      }
      const std::size_t dot = placement.path.rfind('.');
      StatsNode& parent = dot == std::string_view::npos ? root : root.at_path(placement.path.substr(0, dot));
      const std::string_view leaf = placement.path.substr(dot + 1);
      parent.add(leaf, values[i]);
      parent.child(leaf).set_help(info[i].help);
      placed = true;
    }
    if (!placed) {
      table.add(info[i].name, values[i]);
      table.child(info[i].name).set_help(info[i].help);
    }
  }
}

namespace {

void write_string(std::string_view text, std::string& out) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

void write_stats_json(const StatsNode& node, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& entry : node.children()) {
    if (!first) {
      out += ',';
    }
    first = false;
    write_string(entry->name(), out);
    out += ':';
    switch (entry->kind()) {
      case StatsNode::Kind::kObject:
        write_stats_json(*entry, out);
        break;
      case StatsNode::Kind::kCount:
        out += std::to_string(entry->count());
        break;
      case StatsNode::Kind::kText:
        write_string(entry->text(), out);
        break;
      case StatsNode::Kind::kFlag:
        out += entry->flag() ? "true" : "false";
        break;
    }
  }
  out += '}';
}

}  // namespace misdirect::dataplane
