// TldList: the built-in TLD table (IANA ccTLDs and common gTLDs) and multi-label suffixes.
#include "inspect/tld_list.h"

#include <algorithm>

namespace misdirect::inspect {

namespace {

// Sorted, so lookups are a binary search.
constexpr std::string_view kKnownTlds[] = {
    "ac", "ad", "ae", "aero", "af", "ag", "ai", "al", "am", "ao", "app", "aq", "ar", "arpa", "as",
    "asia", "at", "au", "aw", "ax", "az", "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "biz",
    "bj", "bm", "bn", "bo", "bq", "br", "bs", "bt", "bw", "by", "bz", "ca", "cat", "cc", "cd",
    "cf", "cg", "ch", "ci", "ck", "cl", "cloud", "club", "cm", "cn", "co", "com", "coop", "cr",
    "cu", "cv", "cw", "cx", "cy", "cz", "de", "dev", "dj", "dk", "dm", "do", "dz", "ec", "edu",
    "ee", "eg", "email", "er", "es", "et", "eu", "fi", "fj", "fk", "fm", "fo", "fr", "ga", "gd",
    "ge", "gf", "gg", "gh", "gi", "gl", "gm", "gn", "gov", "gp", "gq", "gr", "gs", "gt", "gu",
    "gw", "gy", "hk", "hm", "hn", "hr", "ht", "hu", "id", "ie", "il", "im", "in", "info", "int",
    "io", "iq", "ir", "is", "it", "je", "jm", "jo", "jobs", "jp", "ke", "kg", "kh", "ki", "km",
    "kn", "kp", "kr", "kw", "ky", "kz", "la", "lb", "lc", "li", "live", "lk", "lr", "ls", "lt",
    "lu", "lv", "ly", "ma", "mail", "mc", "md", "me", "mg", "mh", "mil", "mk", "ml", "mm", "mn",
    "mo", "mobi", "mp", "mq", "mr", "ms", "mt", "mu", "museum", "mv", "mw", "mx", "my", "mz",
    "na", "name", "nc", "ne", "net", "nf", "ng", "ni", "nl", "no", "np", "nr", "nu", "nz", "om",
    "online", "org", "pa", "pe", "pf", "pg", "ph", "pk", "pl", "pm", "pn", "post", "pr", "pro",
    "ps", "pt", "pw", "py", "qa", "re", "ro", "rs", "ru", "rw", "sa", "sb", "sc", "sd", "se",
    "sg", "sh", "shop", "si", "site", "sk", "sl", "sm", "sn", "so", "sr", "ss", "st", "store",
    "su", "sv", "sx", "sy", "sz", "tc", "td", "tech", "tel", "tf", "tg", "th", "tj", "tk", "tl",
    "tm", "tn", "to", "top", "tr", "travel", "tt", "tv", "tw", "tz", "ua", "ug", "uk", "us",
    "uy", "uz", "va", "vc", "ve", "vg", "vi", "vn", "vu", "wf", "ws", "xyz", "ye", "yt", "za",
    "zm", "zw",
};

// The second-level suffixes under which organisations register: enough for government, military
// and banking domains in the English-speaking and largest mail markets.
constexpr std::string_view kMultiLabelSuffixes[] = {
    "ac.uk",  "co.uk",  "gov.uk",  "ltd.uk", "me.uk",  "mod.uk", "net.uk", "nhs.uk", "org.uk",
    "plc.uk", "police.uk", "sch.uk", "com.au", "edu.au", "gov.au", "net.au", "org.au", "co.nz",
    "govt.nz", "net.nz", "org.nz", "ac.jp", "co.jp", "go.jp", "ne.jp", "or.jp", "co.kr", "go.kr",
    "com.br", "gov.br", "com.cn", "gov.cn", "co.in", "gov.in", "nic.in", "co.za", "gov.za",
    "com.mx", "gob.mx", "com.sg", "gov.sg", "gc.ca", "gouv.fr", "com.tr", "gov.tr", "co.il",
    "gov.il", "idf.il", "com.ua", "gov.ua", "mil.ua", "com.pl", "gov.pl", "mil.pl", "co.id",
    "go.id", "mil.id", "com.ar", "gob.ar", "mil.ar", "com.hk", "gov.hk", "com.tw", "gov.tw",
    "ac.nz", "mil.nz", "mil.br", "mil.za", "mil.kr", "mil.in",
};

constexpr std::string_view kCommonSwapTlds[] = {
    "com", "net", "org", "info", "biz", "co", "io", "us", "eu", "me", "cc", "gov", "mil", "edu",
};

constexpr std::string_view kInsertedSuffixLabels[] = {"co", "com", "net", "org", "gov", "ac"};

}  // namespace

bool is_known_tld(std::string_view label) noexcept {
  return std::binary_search(std::begin(kKnownTlds), std::end(kKnownTlds), label);
}

std::string_view public_suffix(std::string_view domain) noexcept {
  std::string_view best;
  for (std::string_view suffix : kMultiLabelSuffixes) {
    if (suffix.size() + 2 <= domain.size() && suffix.size() > best.size() &&
        domain.substr(domain.size() - suffix.size()) == suffix &&
        domain[domain.size() - suffix.size() - 1] == '.') {
      best = suffix;
    }
  }
  if (!best.empty()) {
    return domain.substr(domain.size() - best.size());
  }
  const std::size_t dot = domain.rfind('.');
  return dot == std::string_view::npos ? domain : domain.substr(dot + 1);
}

std::span<const std::string_view> common_swap_tlds() noexcept { return kCommonSwapTlds; }
std::span<const std::string_view> inserted_suffix_labels() noexcept { return kInsertedSuffixLabels; }
std::span<const std::string_view> known_tlds() noexcept { return kKnownTlds; }
std::span<const std::string_view> multi_label_suffixes() noexcept { return kMultiLabelSuffixes; }

}  // namespace misdirect::inspect
