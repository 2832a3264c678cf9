// `misdirect variants [--list] DOMAIN...`: what the look-alike generator covers, for an analyst.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "control/commands.h"
#include "inspect/domain_name.h"
#include "inspect/lookalike_generator.h"
#include "inspect/lookalike_kind.h"

namespace misdirect::control {

namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: misdirect variants [--list] [--public-suffix-list FILE] DOMAIN...\n"
      "\n"
      "  Counts the look-alikes misdirect generates for each DOMAIN, per kind, and in total.\n"
      "  --list   print every look-alike with its kind instead, one per line (\"army.ml tld-swap\")\n"
      "  --public-suffix-list FILE   the Public Suffix List to split domains by (.dat or .dafsa;\n"
      "           default: Debian's /usr/share/publicsuffix/public_suffix_list.dafsa)\n"
      "\n"
      "  Edit-distance typos and IDN confusables are matched too but not enumerated here.\n",
      out);
}

}  // namespace

int run_variants_command(int argc, char** argv) {
  bool list = false;
  std::string public_suffix_list(inspect::kDebianPublicSuffixList);
  std::vector<inspect::CanonicalDomain> domains;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--list") == 0) {
      list = true;
      continue;
    }
    if (std::strcmp(arg, "--public-suffix-list") == 0) {
      if (i + 1 == argc) {
        std::fprintf(stderr, "misdirect variants: --public-suffix-list needs a FILE\n");
        return 2;
      }
      public_suffix_list = argv[++i];
      continue;
    }
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      print_usage(stdout);
      return 0;
    }
    if (arg[0] == '-' && arg[1] == '-') {
      std::fprintf(stderr, "misdirect variants: unknown option '%s'\n", arg);
      print_usage(stderr);
      return 2;
    }
    inspect::CanonicalDomain domain;
    const inspect::DomainError error = inspect::normalize_domain(arg, domain);
    if (error != inspect::DomainError::kOk) {
      std::fprintf(stderr, "misdirect variants: \"%s\" is not a valid domain: %.*s\n", arg,
                   static_cast<int>(inspect::describe(error).size()),
                   inspect::describe(error).data());
      return 2;
    }
    domains.push_back(domain);
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

  std::size_t grand_total = 0;
  for (const inspect::CanonicalDomain& domain : domains) {
    const std::vector<inspect::Lookalike> lookalikes =
        inspect::generate_lookalikes(*suffixes.list, domain.view());
    grand_total += lookalikes.size();
    if (list) {
      for (const inspect::Lookalike& lookalike : lookalikes) {
        const std::string_view kind = inspect::kind_name(lookalike.kind);
        std::printf("%s %.*s\n", lookalike.domain.c_str(), static_cast<int>(kind.size()),
                    kind.data());
      }
      continue;
    }
    const auto counts = inspect::count_by_kind(lookalikes);
    std::printf("%.*s\n", static_cast<int>(domain.view().size()), domain.view().data());
    for (int k = 0; k < inspect::kLookalikeKindCount; ++k) {
      const auto kind = static_cast<inspect::LookalikeKind>(k);
      if (kind == inspect::LookalikeKind::kEditDistance) {
        continue;  // matched, never enumerated
      }
      const std::string_view name = inspect::kind_name(kind);
      std::printf("  %-16.*s %6zu\n", static_cast<int>(name.size()), name.data(),
                  counts[static_cast<std::size_t>(k)]);
    }
    std::printf("  %-16s %6zu\n", "total", lookalikes.size());
  }
  if (!list && domains.size() > 1) {
    std::printf("total %zu\n", grand_total);
  }
  return 0;
}

}  // namespace misdirect::control
