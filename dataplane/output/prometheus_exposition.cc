// PrometheusExposition: the stats tree as a Prometheus text exposition page (0.0.4).
#include "dataplane/output/prometheus_exposition.h"

#include <algorithm>
#include <array>

namespace misdirect::dataplane {
namespace {

// Collections whose children are keyed by an identity rather than named by a meaning: the key
// becomes a label, the collection's name its singular.
struct KeyedCollection {
  std::string_view node;
  std::string_view label;
};
constexpr std::array kKeyedCollections = {
    KeyedCollection{"threads", "thread"},
    KeyedCollection{"ports", "port"},
    KeyedCollection{"alerts_by_kind", "kind"},
};

// The levels the tree holds (everything else it counts only ever grows while the sensor runs).
// The tree does not tell a level from a count, so this list does; a new level belongs here.
constexpr std::array<std::string_view, 14> kGaugeLeaves = {
    "uptime",      "active",    "memuse",        "generation", "compile_microseconds",
    "patterns",    "workers",   "rx_lcores",     "input_span_ns", "in_flight",
    "rx_queues",   "lcore",     "clients",       "subscribers",
};

const KeyedCollection* keyed_collection(std::string_view name) noexcept {
  for (const KeyedCollection& keyed : kKeyedCollections) {
    if (keyed.node == name) {
      return &keyed;
    }
  }
  return nullptr;
}

bool is_gauge(const StatsNode& leaf) noexcept {
  return leaf.kind() == StatsNode::Kind::kFlag ||
         std::find(kGaugeLeaves.begin(), kGaugeLeaves.end(), leaf.name()) != kGaugeLeaves.end();
}

std::string join(std::string_view name, std::string_view part) {
  std::string joined(name);
  if (!joined.empty()) {
    joined += '_';
  }
  joined += PrometheusExposition::sanitise_name(part);
  return joined;
}

std::string join_path(std::string_view path, std::string_view part) {
  std::string joined(path);
  if (!joined.empty()) {
    joined += '.';
  }
  joined += part;
  return joined;
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

std::string PrometheusExposition::sanitise_name(std::string_view part) {
  std::string name;
  name.reserve(part.size() + 1);
  for (const char c : part) {
    name += is_name_char(c) ? c : '_';
  }
  if (name.empty()) {
    name = "_";
  }
  return name;
}

void PrometheusExposition::append_label_value(std::string_view value, std::string& out) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void PrometheusExposition::append_help_text(std::string_view help, std::string& out) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void PrometheusExposition::add_record(const StatsNode& record, std::string_view prefix) {
  const std::string name = prefix.empty() ? std::string() : sanitise_name(prefix);
  for (const std::string_view half : {std::string_view("stats"), std::string_view("misdirect")}) {
    if (const StatsNode* part = record.find(half); part != nullptr) {
      walk(*part, name, std::string(half), {});
    }
  }
}

void PrometheusExposition::add_tree(const StatsNode& tree, std::string_view prefix,
                                    std::string_view tree_path) {
  walk(tree, prefix.empty() ? std::string() : sanitise_name(prefix), std::string(tree_path), {});
}

void PrometheusExposition::walk(const StatsNode& node, const std::string& name,
                                const std::string& path, const Labels& labels) {
  for (const auto& child : node.children()) {
    switch (child->kind()) {
      case StatsNode::Kind::kText:
        break;  // texts are no samples; under a keyed collection they became labels
      case StatsNode::Kind::kCount:
      case StatsNode::Kind::kFlag:
        add_sample(*child, join(name, child->name()), join_path(path, child->name()), labels);
        break;
      case StatsNode::Kind::kObject: {
        const KeyedCollection* keyed = keyed_collection(child->name());
        if (keyed == nullptr) {
          walk(*child, join(name, child->name()), join_path(path, child->name()), labels);
          break;
        }
        const std::string member_name = join(name, keyed->label);
        const std::string member_path = join_path(path, child->name());
        for (const auto& member : child->children()) {
          if (member->kind() != StatsNode::Kind::kObject) {
            // A keyed figure (alerts_by_kind.homoglyph): one family, the key as its label.
            Labels member_labels = labels;
            member_labels.emplace_back(sanitise_name(keyed->label), std::string(member->name()));
            add_sample(*member, join(name, child->name()),
                       join_path(member_path, "<" + std::string(keyed->label) + ">"), member_labels);
            continue;
          }
          Labels member_labels = labels;
          member_labels.emplace_back(sanitise_name(keyed->label), std::string(member->name()));
          for (const auto& field : member->children()) {
            if (field->kind() == StatsNode::Kind::kText) {
              member_labels.emplace_back(sanitise_name(field->name()), std::string(field->text()));
            }
          }
          walk(*member, member_name, join_path(member_path, "<" + std::string(keyed->label) + ">"),
               member_labels);
        }
        break;
      }
    }
  }
}

void PrometheusExposition::add_sample(const StatsNode& leaf, const std::string& name,
                                      const std::string& path, const Labels& labels) {
  const bool gauge = is_gauge(leaf);
  std::string family_name = name;
  if (family_name.empty() || (family_name[0] >= '0' && family_name[0] <= '9')) {
    family_name.insert(0, "_");
  }
  if (!gauge) {
    family_name += "_total";
  }
  auto [found, inserted] = family_index_.try_emplace(family_name, families_.size());
  if (inserted) {
    Family family;
    family.name = family_name;
    family.gauge = gauge;
    if (!leaf.help().empty()) {
      family.help = std::string(leaf.help()) + " (" + path + ")";
    } else {
      family.help = path;
    }
    families_.push_back(std::move(family));
  }
  Family& family = families_[found->second];
  for (const Sample& existing : family.samples) {
    if (existing.labels == labels) {
      ++duplicate_series_;
      return;
    }
  }
  family.samples.push_back(Sample{labels, leaf.count()});
}

std::string PrometheusExposition::text() const {
  std::string out;
  for (const Family& family : families_) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_help_text(family.help, out);
    out += "\n# TYPE ";
    out += family.name;
    out += family.gauge ? " gauge\n" : " counter\n";
    for (const Sample& sample : family.samples) {
      out += family.name;
      if (!sample.labels.empty()) {
        out += '{';
        bool first = true;
        for (const auto& [label, value] : sample.labels) {
          if (!first) {
            out += ',';
          }
          first = false;
          out += label;
          out += "=\"";
          append_label_value(value, out);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      out += std::to_string(sample.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace misdirect::dataplane
