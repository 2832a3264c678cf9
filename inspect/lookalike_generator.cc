// LookalikeGenerator: the rules that turn one protected domain into its named look-alikes.
//
// A domain is split into the registrable part (the labels left of the public suffix, "army" in
// "army.mil", "mod" in "mod.gov.uk") and the public suffix. Character rules edit the registrable
// part; tld-swap rules edit only the suffix and keep a result only if its last label is a real TLD.
// Both the split and "a real TLD" come from the Public Suffix List (public_suffix_list.h).
#include "inspect/lookalike_generator.h"

#include <algorithm>
#include <initializer_list>
#include <unordered_map>
#include <utility>

#include "inspect/domain_name.h"
#include "inspect/keyboard_layouts.h"
#include "inspect/punycode.h"

namespace misdirect::inspect {

namespace {

constexpr LookalikeKind kPriorityOrder[] = {
    LookalikeKind::kTldSwap,       LookalikeKind::kDotOmission,  LookalikeKind::kDotInsertion,
    LookalikeKind::kHomoglyph,     LookalikeKind::kTransposition, LookalikeKind::kOmission,
    LookalikeKind::kRepetition,    LookalikeKind::kInsertion,    LookalikeKind::kVowelSwap,
    LookalikeKind::kReplacement,   LookalikeKind::kHyphenation,  LookalikeKind::kBitsquatting,
    LookalikeKind::kSubdomainLabel, LookalikeKind::kEditDistance,
};
static_assert(std::size(kPriorityOrder) == kLookalikeKindCount);

constexpr std::string_view kVowels = "aeiou";
constexpr std::string_view kHostChars = "abcdefghijklmnopqrstuvwxyz0123456789";

// ASCII homoglyphs: what a reader mistakes for what at a glance, in both directions.
constexpr std::pair<std::string_view, std::string_view> kAsciiHomoglyphs[] = {
    {"m", "rn"}, {"rn", "m"}, {"m", "nn"}, {"w", "vv"}, {"vv", "w"}, {"d", "cl"}, {"cl", "d"},
    {"l", "1"},  {"l", "i"},  {"i", "1"},  {"i", "l"},  {"1", "l"},  {"1", "i"},  {"o", "0"},
    {"0", "o"},  {"g", "q"},  {"q", "g"},  {"u", "v"},  {"v", "u"},
};

// Unicode letters that render like an ASCII letter (Cyrillic and Greek), substituted one at a time
// and written as A-labels. Few on purpose: the matcher catches the rest through the confusable
// skeleton, so the generated list only has to show the analyst the common cases.
constexpr std::pair<char, char32_t> kUnicodeHomoglyphs[] = {
    {'a', U'\u0430'}, {'c', U'\u0441'}, {'e', U'\u0435'}, {'o', U'\u043E'}, {'p', U'\u0440'},
    {'x', U'\u0445'}, {'y', U'\u0443'}, {'i', U'\u0456'}, {'j', U'\u0458'}, {'s', U'\u0455'},
    {'h', U'\u04BB'}, {'o', U'\u03BF'},
};

// Generic TLDs every protected domain's TLD is swapped for ("army.mil" → "army.com"). A short list
// on purpose: all 1,450 TLDs would make thousands of variants a domain.
constexpr std::string_view kCommonSwapTlds[] = {
    "com", "net", "org", "info", "biz", "co", "io", "us", "eu", "me", "cc", "gov", "mil", "edu",
};

// Labels inserted into a public suffix ("mod.gov.uk" → "mod.gov.co.uk", "army.mil" → "army.mil.co").
constexpr std::string_view kInsertedSuffixLabels[] = {"co", "com", "net", "org", "gov", "ac"};

// Label-level swaps people make or registrars exploit, applied wherever the key is a whole label
// of the suffix (or the whole suffix), even when the result's TLD does not exist (gov → gv).
constexpr std::pair<std::string_view, std::string_view> kKnownSuffixSwaps[] = {
    {"mil", "ml"}, {"gov", "gv"}, {"com", "co"}, {"co.uk", "uk.co"}, {"gov.uk", "uk.gov"},
    {"com", "cm"}, {"org", "orf"}, {"net", "ne"},
};

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// A hostname misdirect could see on the wire: LDH labels of 1..63 bytes, no hyphen at a label's
// edge, at least two labels, at most 253 bytes, a TLD that is not all digits.
bool valid_hostname(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomainBytes) {
    return false;
  }
  std::size_t labels = 0;
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t end = domain.find('.', start);
    if (end == std::string_view::npos) {
      end = domain.size();
    }
    const std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > kMaxLabelBytes || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_host_char(c)) {
        return false;
      }
    }
    ++labels;
    if (end == domain.size()) {
      const bool numeric = std::all_of(label.begin(), label.end(),
                                       [](char c) { return c >= '0' && c <= '9'; });
      return labels >= 2 && !numeric;
    }
    start = end + 1;
  }
  return false;
}

std::string_view last_label(std::string_view domain) {
  const std::size_t dot = domain.rfind('.');
  return dot == std::string_view::npos ? domain : domain.substr(dot + 1);
}

std::vector<std::string_view> split_labels(std::string_view domain) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = domain.find('.', start);
    labels.push_back(domain.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return labels;
    }
    start = end + 1;
  }
}

std::string join_labels(const std::vector<std::string_view>& labels, std::string_view separator) {
  std::string joined;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) {
      joined += separator;
    }
    joined += labels[i];
  }
  return joined;
}

// Concatenates a candidate's parts into one reused buffer (no allocation per candidate) and
// passes it on if it is a hostname other than the original.
class Emitter {
 public:
  Emitter(std::string_view original, LookalikeVisitor& visitor)
      : original_(original), visitor_(visitor) {
    buffer_.reserve(kMaxDomainBytes + 64);
  }

  void add(std::initializer_list<std::string_view> parts, LookalikeKind kind) {
    buffer_.clear();
    for (std::string_view part : parts) {
      buffer_.append(part);
    }
    if (buffer_ != original_ && valid_hostname(buffer_)) {
      visitor_.on_lookalike(buffer_, kind);
    }
  }

 private:
  std::string_view original_;
  LookalikeVisitor& visitor_;
  std::string buffer_;
};

// generate_lookalikes's visitor: one entry per domain, keeping the kind of highest priority.
class CollectingVisitor final : public LookalikeVisitor {
 public:
  void on_lookalike(std::string_view domain, LookalikeKind kind) override {
    auto [it, inserted] = seen_.try_emplace(std::string(domain), kind);
    if (!inserted && kind_priority(kind) < kind_priority(it->second)) {
      it->second = kind;
    }
  }

  std::vector<Lookalike> take() {
    std::vector<Lookalike> out;
    out.reserve(seen_.size());
    for (auto& [domain, kind] : seen_) {
      out.push_back(Lookalike{domain, kind});
    }
    std::sort(out.begin(), out.end(), [](const Lookalike& a, const Lookalike& b) {
      const int pa = kind_priority(a.kind);
      const int pb = kind_priority(b.kind);
      return pa != pb ? pa < pb : a.domain < b.domain;
    });
    return out;
  }

 private:
  std::unordered_map<std::string, LookalikeKind> seen_;
};

// The suffix rules: every single-character edit of the suffix string, whole-label swaps, label
// omission, transposition and insertion. Kept only if the last label is a real TLD (or the result
// comes from the known-swap table). They depend on the suffix alone, so a list of many domains
// under a few suffixes computes each suffix's swaps once (LookalikeGenerator).
std::vector<std::string> suffix_swaps(const PublicSuffixList& suffixes, std::string_view suffix) {
  std::vector<std::string> swaps;
  auto add_if_real = [&](const std::string& new_suffix) {
    if (suffixes.is_tld(last_label(new_suffix))) {
      swaps.push_back(new_suffix);
    }
  };
  const std::string s(suffix);
  // Inside the TLD every character is tried, since the real-TLD filter keeps only the few that
  // exist (mil → ml, il); inside the labels before it nothing filters, so only a neighbouring key
  // is tried there (gov → gpv, not gov → g7v).
  const std::size_t tld_start = s.size() - last_label(s).size();
  auto candidates = [&](std::size_t i) {
    if (i >= tld_start) {
      return std::string(kHostChars) + ".";
    }
    char neighbours[32];
    const int count = all_keyboard_neighbours(s[i], neighbours);
    return std::string(neighbours, static_cast<std::size_t>(count)) + ".";
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    add_if_real(s.substr(0, i) + s.substr(i + 1));                                   // omission
    add_if_real(s.substr(0, i + 1) + s[i] + s.substr(i + 1));                        // repetition
    if (i + 1 < s.size()) {
      std::string swapped = s;
      std::swap(swapped[i], swapped[i + 1]);
      add_if_real(swapped);                                                          // transposition
    }
    for (char c : candidates(i)) {
      std::string replaced = s;
      replaced[i] = c;
      add_if_real(replaced);                                                         // replacement
      add_if_real(s.substr(0, i) + c + s.substr(i));                                 // insertion
    }
  }
  for (char c : std::string(kHostChars)) {
    add_if_real(s + c);                                                              // appended
  }
  const std::vector<std::string_view> labels = split_labels(suffix);
  for (std::string_view tld : kCommonSwapTlds) {
    std::vector<std::string_view> replaced = labels;
    replaced.back() = tld;
    add_if_real(join_labels(replaced, "."));                                         // army.com
    add_if_real(std::string(tld));                                                   // mod.com
  }
  for (std::size_t i = 0; i < labels.size() && labels.size() > 1; ++i) {
    std::vector<std::string_view> fewer = labels;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
    add_if_real(join_labels(fewer, "."));                                            // mod.uk
    if (i + 1 < labels.size()) {
      std::vector<std::string_view> swapped = labels;
      std::swap(swapped[i], swapped[i + 1]);
      add_if_real(join_labels(swapped, "."));                                        // mod.uk.gov
    }
  }
  for (std::size_t i = 0; i <= labels.size(); ++i) {
    for (std::string_view label : kInsertedSuffixLabels) {
      std::vector<std::string_view> more = labels;
      more.insert(more.begin() + static_cast<std::ptrdiff_t>(i), label);
      add_if_real(join_labels(more, "."));                                           // mod.gov.co.uk
    }
  }
  for (const auto& [from, to] : kKnownSuffixSwaps) {
    if (s == from) {
      swaps.emplace_back(to);
    }
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == from) {
        std::vector<std::string_view> swapped = labels;
        swapped[i] = to;
        swaps.push_back(join_labels(swapped, "."));                                  // mod.gv.uk
      }
    }
  }
  return swaps;
}

void add_suffix_variants(std::string_view registrable, const std::vector<std::string>& swaps,
                         Emitter& out) {
  for (const std::string& swap : swaps) {
    out.add({registrable, ".", swap}, LookalikeKind::kTldSwap);
  }
}

// The character rules on the registrable part `r` (which may hold dots when a protected domain is
// itself a subdomain, "hq.army.mil"). Positions inside an A-label are skipped: editing Punycode
// makes noise, not look-alikes.
void add_label_variants(std::string_view registrable, std::string_view suffix, Emitter& out) {
  const std::string_view r = registrable;
  std::string tail(1, '.');  // not "." + std::string(suffix): GCC 12 -O3 warns falsely (-Wrestrict)
  tail.append(suffix);
  std::vector<bool> editable(r.size(), true);
  for (std::size_t start = 0; start < r.size();) {
    std::size_t end = r.find('.', start);
    if (end == std::string::npos) {
      end = r.size();
    }
    const bool a_label = r.compare(start, 4, "xn--") == 0;
    for (std::size_t i = start; i < end; ++i) {
      editable[i] = !a_label;
    }
    if (end < r.size()) {
      editable[end] = false;
    }
    start = end + 1;
  }
  char neighbours[32];
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (!editable[i]) {
      continue;
    }
    const char c = r[i];
    const std::string_view before = r.substr(0, i);
    const std::string_view after = r.substr(i + 1);
    const std::string_view self(&r[i], 1);
    out.add({before, after, tail}, LookalikeKind::kOmission);
    if (c != '-') {
      out.add({before, self, self, after, tail}, LookalikeKind::kRepetition);
    }
    if (i + 1 < r.size() && editable[i + 1] && r[i + 1] != c) {
      out.add({before, r.substr(i + 1, 1), self, r.substr(i + 2), tail},
              LookalikeKind::kTransposition);
    }
    const int count = all_keyboard_neighbours(c, neighbours);
    for (int n = 0; n < count; ++n) {
      const std::string_view neighbour(&neighbours[n], 1);
      out.add({before, neighbour, after, tail}, LookalikeKind::kReplacement);
      out.add({before, neighbour, self, after, tail}, LookalikeKind::kInsertion);
      out.add({before, self, neighbour, after, tail}, LookalikeKind::kInsertion);
    }
    if (kVowels.find(c) != std::string_view::npos) {
      for (std::size_t v = 0; v < kVowels.size(); ++v) {
        if (kVowels[v] != c) {
          out.add({before, kVowels.substr(v, 1), after, tail}, LookalikeKind::kVowelSwap);
        }
      }
    }
    for (int bit = 0; bit < 8; ++bit) {
      const char flipped = static_cast<char>(static_cast<unsigned char>(c) ^ (1u << bit));
      if (is_host_char(flipped)) {
        out.add({before, std::string_view(&flipped, 1), after, tail}, LookalikeKind::kBitsquatting);
      }
    }
    if (i > 0 && editable[i - 1]) {
      out.add({before, "-", r.substr(i), tail}, LookalikeKind::kHyphenation);
      out.add({before, ".", r.substr(i), tail}, LookalikeKind::kDotInsertion);
    }
    for (const auto& [from, to] : kAsciiHomoglyphs) {
      if (r.compare(i, from.size(), from) == 0 &&
          std::all_of(editable.begin() + static_cast<std::ptrdiff_t>(i),
                      editable.begin() + static_cast<std::ptrdiff_t>(i + from.size()),
                      [](bool e) { return e; })) {
        out.add({before, to, r.substr(i + from.size()), tail}, LookalikeKind::kHomoglyph);
      }
    }
  }
}

// One Unicode confusable in one label at a time, written as an A-label ("аrmy.mil" with a
// Cyrillic а becomes "xn--rmy-…").
void add_unicode_homoglyphs(std::string_view registrable, std::string_view suffix,
                            Emitter& out) {
  const std::vector<std::string_view> labels = split_labels(registrable);
  for (std::size_t l = 0; l < labels.size(); ++l) {
    const std::string_view label = labels[l];
    if (label.compare(0, 4, "xn--") == 0) {
      continue;
    }
    for (std::size_t i = 0; i < label.size(); ++i) {
      for (const auto& [ascii, unicode] : kUnicodeHomoglyphs) {
        if (label[i] != ascii) {
          continue;
        }
        char32_t code_points[kMaxLabelCodePoints];
        for (std::size_t k = 0; k < label.size(); ++k) {
          code_points[k] = k == i ? unicode : static_cast<char32_t>(label[k]);
        }
        char encoded[kMaxLabelBytes + 1];
        const PunycodeResult result =
            encode_a_label(std::span<const char32_t>(code_points, label.size()), encoded);
        if (!result.ok()) {
          continue;
        }
        std::vector<std::string_view> replaced = labels;
        replaced[l] = std::string_view(encoded, result.length);
        out.add({join_labels(replaced, "."), ".", suffix}, LookalikeKind::kHomoglyph);
      }
    }
  }
}

void add_dot_omissions(const PublicSuffixList& suffixes, std::string_view domain, Emitter& out) {
  for (std::size_t i = 0; i < domain.size(); ++i) {
    if (domain[i] == '.') {
      std::string joined = std::string(domain.substr(0, i)) + std::string(domain.substr(i + 1));
      if (suffixes.is_tld(last_label(joined))) {
        out.add({joined}, LookalikeKind::kDotOmission);
      }
    }
  }
}

// The whole protected name flattened into one label under a generic TLD (armymil.com,
// army-mil.com): doppelganger registrations that catch mail from people who drop the dot.
void add_subdomain_labels(std::string_view domain, Emitter& out) {
  const std::vector<std::string_view> labels = split_labels(domain);
  for (const char* tld : {"com", "net", "org"}) {
    out.add({join_labels(labels, ""), ".", tld}, LookalikeKind::kSubdomainLabel);
    out.add({join_labels(labels, "-"), ".", tld}, LookalikeKind::kSubdomainLabel);
  }
}

}  // namespace

int kind_priority(LookalikeKind kind) noexcept {
  static constexpr auto kRanks = [] {
    std::array<int, kLookalikeKindCount> ranks{};
    for (int i = 0; i < kLookalikeKindCount; ++i) {
      ranks[static_cast<std::size_t>(kPriorityOrder[i])] = i;
    }
    return ranks;
  }();
  const auto index = static_cast<std::size_t>(kind);
  return index < kRanks.size() ? kRanks[index] : kLookalikeKindCount;
}

void LookalikeGenerator::visit(std::string_view canonical_domain, LookalikeVisitor& visitor) {
  const std::string_view suffix = suffixes_.public_suffix(canonical_domain);
  if (suffix.size() >= canonical_domain.size()) {
    return;  // a bare TLD has no registrable label to imitate
  }
  const std::string_view registrable =
      canonical_domain.substr(0, canonical_domain.size() - suffix.size() - 1);
  auto cached = suffix_swaps_.find(suffix);
  if (cached == suffix_swaps_.end()) {
    cached = suffix_swaps_.emplace(std::string(suffix), suffix_swaps(suffixes_, suffix)).first;
  }
  Emitter out(canonical_domain, visitor);
  add_suffix_variants(registrable, cached->second, out);
  add_dot_omissions(suffixes_, canonical_domain, out);
  add_label_variants(registrable, suffix, out);
  add_unicode_homoglyphs(registrable, suffix, out);
  add_subdomain_labels(canonical_domain, out);
}

std::vector<Lookalike> generate_lookalikes(const PublicSuffixList& suffixes,
                                          std::string_view canonical_domain) {
  CollectingVisitor collected;
  LookalikeGenerator(suffixes).visit(canonical_domain, collected);
  return collected.take();
}

std::array<std::size_t, kLookalikeKindCount> count_by_kind(const std::vector<Lookalike>& lookalikes) {
  std::array<std::size_t, kLookalikeKindCount> counts{};
  for (const Lookalike& lookalike : lookalikes) {
    ++counts[static_cast<std::size_t>(lookalike.kind)];
  }
  return counts;
}

std::vector<LookalikeEntry> build_lookalike_table(const DomainLists& lists,
                                                  const PublicSuffixList& suffixes) {
  std::vector<LookalikeEntry> table;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t p = 0; p < lists.protected_domains.size(); ++p) {
    const std::string& domain = lists.protected_domains[p];
    if (index.try_emplace(domain, table.size()).second) {
      table.push_back(LookalikeEntry{domain, LookalikeEntry::Role::kProtected,
                                     LookalikeKind::kTldSwap, static_cast<uint32_t>(p)});
    }
  }
  for (const std::string& domain : lists.allow) {
    if (index.try_emplace(domain, table.size()).second) {
      table.push_back(LookalikeEntry{domain, LookalikeEntry::Role::kAllowed,
                                     LookalikeKind::kTldSwap, 0});
    }
  }
  for (std::size_t p = 0; p < lists.protected_domains.size(); ++p) {
    for (Lookalike& lookalike : generate_lookalikes(suffixes, lists.protected_domains[p])) {
      auto [it, inserted] = index.try_emplace(lookalike.domain, table.size());
      if (inserted) {
        table.push_back(LookalikeEntry{std::move(lookalike.domain),
                                       LookalikeEntry::Role::kVariant, lookalike.kind,
                                       static_cast<uint32_t>(p)});
        continue;
      }
      LookalikeEntry& existing = table[it->second];
      if (existing.role == LookalikeEntry::Role::kVariant &&
          kind_priority(lookalike.kind) < kind_priority(existing.kind)) {
        existing.kind = lookalike.kind;
        existing.protected_index = static_cast<uint32_t>(p);
      }
    }
  }
  return table;
}

}  // namespace misdirect::inspect
