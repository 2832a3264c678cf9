// PublicSuffixList: where a domain's registrable part ends, from the Public Suffix List (libpsl).
//
// The look-alike generator splits a protected domain into its registrable part and its public
// suffix ("justice" + "gov.ie"), and keeps a tld-swap variant only if its last label is a real
// top-level domain. Both answers come from the Public Suffix List as libpsl reads it (Debian's
// `publicsuffix` package by default), not from a hand-picked table. Cold code: used when a
// Matcher is built or `misdirect variants` runs, never per packet.
//
// Only the ICANN section counts, without the implicit "*" rule: private-section entries
// (blogspot.com, github.io, cloud hosting) are not where an organisation registers its mail
// domain, and the "*" rule would make any made-up last label a TLD. docs/lookalikes.md says how an
// operator updates the list.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct psl_ctx_st;

namespace misdirect::inspect {

// Debian's `publicsuffix` package: the same list as public_suffix_list.dat, precompiled (libpsl
// loads it in about a millisecond, the text form in about 150 ms).
inline constexpr std::string_view kDebianPublicSuffixList =
    "/usr/share/publicsuffix/public_suffix_list.dafsa";

class PublicSuffixList;

struct PublicSuffixListLoad {
  std::shared_ptr<const PublicSuffixList> list;  // null on error
  std::string error;                             // names the file and the problem
};

class PublicSuffixList {
 public:
  // Reads a list in either of libpsl's formats: the text of public_suffix_list.dat or a DAFSA
  // made from it (psl-make-dafsa). A file that cannot be read, or that does not know "com" and
  // "gov.uk", is refused with a message that says which file and why.
  static PublicSuffixListLoad load(std::string_view path);
  // The same from list text in memory (tests, and lists that arrive by other means); `origin`
  // names it in the error.
  static PublicSuffixListLoad parse(std::string_view text, std::string_view origin);

  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;
  ~PublicSuffixList();

  // The public suffix of a canonical domain: its longest label-aligned suffix that the ICANN
  // section lists (wildcard and exception rules applied) and that leaves at least one label before
  // it; else its last label. "army.mil" → "mil", "justice.gov.ie" → "gov.ie".
  std::string_view public_suffix(std::string_view domain) const;

  // True when `label` (one canonical label) is a top-level domain the ICANN section lists.
  bool is_tld(std::string_view label) const;

 private:
  explicit PublicSuffixList(psl_ctx_st* context) noexcept : context_(context) {}
  static PublicSuffixListLoad checked(psl_ctx_st* context, std::string_view origin);
  bool is_icann_suffix(std::string_view suffix) const;

  psl_ctx_st* context_;
};

}  // namespace misdirect::inspect
