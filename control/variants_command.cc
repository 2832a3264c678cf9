// `misdirect variants [--list] [--format text|json|csv] [--kinds K,...] [--protected FILE]
// DOMAIN...`: what the look-alike generator covers, for an analyst (dnstwist's habits: a table
// to read, JSON or CSV to feed other tools, a filter by kind).
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/commands.h"
#include "inspect/domain_lists.h"
#include "inspect/domain_name.h"
#include "inspect/lookalike_generator.h"
#include "inspect/lookalike_kind.h"

namespace misdirect::control {

namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: misdirect variants [--list] [--format text|json|csv] [--kinds K,...]\n"
      "                          [--protected FILE] [--public-suffix-list FILE] DOMAIN...\n"
      "\n"
      "  Counts the look-alikes misdirect generates for each DOMAIN, per kind, and in total.\n"
      "  --list           print every look-alike with its kind instead, one per line (\"army.ml tld-swap\";\n"
      "                   an xn-- name is followed by its Unicode form)\n"
      "  --format FORMAT  text (default: the counts, or the --list lines), json (an array of\n"
      "                   {\"protected\",\"kind\",\"domain\"}) or csv (protected,kind,domain)\n"
      "  --kinds K,...    only these kinds (names as in records: tld-swap,omission,...)\n"
      "  --protected FILE the domains of a protected list, in addition to those given\n"
      "  --public-suffix-list FILE   the Public Suffix List to split domains by (.dat or .dafsa;\n"
      "                   default: Debian's /usr/share/publicsuffix/public_suffix_list.dafsa)\n"
      "\n"
      "  Edit-distance typos and IDN confusables are matched too but not enumerated here.\n",
      out);
}

enum class Format { kText, kJson, kCsv };

// The CSV field as RFC 4180 writes it (quoted when it holds a comma, quote or line break).
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (const char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

}  // namespace

int run_variants_command(int argc, char** argv) {
  bool list = false;
  Format format = Format::kText;
  std::array<bool, inspect::kLookalikeKindCount> wanted;
  wanted.fill(true);
  std::vector<std::string> domains;
  std::string public_suffix_list(inspect::kDebianPublicSuffixList);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "misdirect variants: %s needs a value\n", argv[i]);
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--list") {
      list = true;
    } else if (arg == "--help" || arg == "-h") {
      print_usage(stdout);
      return 0;
    } else if (arg == "--format") {
      const char* v = value();
      if (v == nullptr) return 2;
      const std::string_view name = v;
      if (name == "text") {
        format = Format::kText;
      } else if (name == "json") {
        format = Format::kJson;
      } else if (name == "csv") {
        format = Format::kCsv;
      } else {
        std::fprintf(stderr, "misdirect variants: --format: \"%s\" is not text, json or csv\n", v);
        return 2;
      }
    } else if (arg == "--kinds") {
      const char* v = value();
      if (v == nullptr) return 2;
      wanted.fill(false);
      std::string_view rest = v;
      while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        const std::optional<inspect::LookalikeKind> kind = inspect::kind_from_name(name);
        if (!kind) {
          std::fprintf(stderr, "misdirect variants: --kinds: \"%.*s\" is not a look-alike kind\n",
                       static_cast<int>(name.size()), name.data());
          return 2;
        }
        wanted[static_cast<std::size_t>(*kind)] = true;
        if (comma == std::string_view::npos) {
          break;
        }
        rest = rest.substr(comma + 1);
      }
    } else if (arg == "--public-suffix-list") {
      const char* v = value();
      if (v == nullptr) return 2;
      public_suffix_list = v;
    } else if (arg == "--protected") {
      const char* v = value();
      if (v == nullptr) return 2;
      inspect::ListParseResult read = inspect::read_domain_list_file(v);
      if (!read.ok()) {
        std::fprintf(stderr, "misdirect variants: %s\n", read.error.c_str());
        return 2;
      }
      domains.insert(domains.end(), read.domains.begin(), read.domains.end());
    } else if (arg.starts_with("--")) {
      std::fprintf(stderr, "misdirect variants: unknown option '%s'\n", argv[i]);
      print_usage(stderr);
      return 2;
    } else {
      inspect::CanonicalDomain domain;
      const inspect::DomainError error = inspect::normalize_domain(arg, domain);
      if (error != inspect::DomainError::kOk) {
        std::fprintf(stderr, "misdirect variants: \"%s\" is not a valid domain: %.*s\n", argv[i],
                     static_cast<int>(inspect::describe(error).size()), inspect::describe(error).data());
        return 2;
      }
      domains.emplace_back(domain.view());
    }
  }
  if (domains.empty()) {
    print_usage(stderr);
    return 2;
  }

  const inspect::PublicSuffixListLoad suffixes = inspect::PublicSuffixList::load(public_suffix_list);
  if (suffixes.list == nullptr) {
    std::fprintf(stderr, "misdirect variants: %s\n", suffixes.error.c_str());
    return 1;
  }

  nlohmann::ordered_json json_rows = nlohmann::ordered_json::array();
  if (format == Format::kCsv) {
    std::printf("protected,kind,domain\n");
  }
  std::size_t grand_total = 0;
  for (const std::string& domain : domains) {
    std::vector<inspect::Lookalike> lookalikes;
    for (inspect::Lookalike& lookalike : inspect::generate_lookalikes(*suffixes.list, domain)) {
      if (wanted[static_cast<std::size_t>(lookalike.kind)]) {
        lookalikes.push_back(std::move(lookalike));
      }
    }
    grand_total += lookalikes.size();
    if (format == Format::kJson) {
      for (const inspect::Lookalike& lookalike : lookalikes) {
        json_rows.push_back({{"protected", domain},
                             {"kind", std::string(inspect::kind_name(lookalike.kind))},
                             {"domain", lookalike.domain}});
      }
      continue;
    }
    if (format == Format::kCsv) {
      for (const inspect::Lookalike& lookalike : lookalikes) {
        std::printf("%s,%s,%s\n", csv_field(domain).c_str(), std::string(inspect::kind_name(lookalike.kind)).c_str(),
                    csv_field(lookalike.domain).c_str());
      }
      continue;
    }
    if (list) {
      for (const inspect::Lookalike& lookalike : lookalikes) {
        const std::string_view kind = inspect::kind_name(lookalike.kind);
        // An A-label gets its Unicode form beside it: "xn--rmy-5cd.mil homoglyph аrmy.mil".
        char form[inspect::kMaxUnicodeDomainBytes];
        const std::size_t form_length = inspect::unicode_form(lookalike.domain, form);
        std::printf("%s %.*s%s%.*s\n", lookalike.domain.c_str(), static_cast<int>(kind.size()),
                    kind.data(), form_length != 0 ? " " : "", static_cast<int>(form_length), form);
      }
      continue;
    }
    const auto counts = inspect::count_by_kind(lookalikes);
    char form[inspect::kMaxUnicodeDomainBytes];
    const std::size_t form_length = inspect::unicode_form(domain, form);
    std::printf("%s%s%.*s\n", domain.c_str(), form_length != 0 ? " " : "",
                static_cast<int>(form_length), form);
    for (int k = 0; k < inspect::kLookalikeKindCount; ++k) {
      const auto kind = static_cast<inspect::LookalikeKind>(k);
      if (kind == inspect::LookalikeKind::kEditDistance || !wanted[static_cast<std::size_t>(k)]) {
        continue;  // matched, never enumerated; or filtered out
      }
      const std::string_view name = inspect::kind_name(kind);
      std::printf("  %-16.*s %6zu\n", static_cast<int>(name.size()), name.data(),
                  counts[static_cast<std::size_t>(k)]);
    }
    std::printf("  %-16s %6zu\n", "total", lookalikes.size());
  }
  if (format == Format::kJson) {
    std::printf("%s\n", json_rows.dump().c_str());
  } else if (format == Format::kText && !list && domains.size() > 1) {
    std::printf("total %zu\n", grand_total);
  }
  return 0;
}

}  // namespace misdirect::control
