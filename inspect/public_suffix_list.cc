// PublicSuffixList: libpsl behind the two questions the look-alike generator asks.
//
// libpsl is a well-kept Debian library on a cold path (a Matcher build): it parses both list
// formats, applies wildcard and exception rules and knows IDN suffixes in A-label form.
#include "inspect/public_suffix_list.h"

#include <libpsl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace misdirect::inspect {
namespace {

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// A FILE* closed when the load is done.
struct ClosingFile {
  std::FILE* file;
  ~ClosingFile() {
    if (file != nullptr) {
      std::fclose(file);
    }
  }
};

}  // namespace

PublicSuffixList::~PublicSuffixList() { psl_free(context_); }

PublicSuffixListLoad PublicSuffixList::checked(psl_ctx_st* context, std::string_view origin) {
  if (context == nullptr) {
    return {nullptr, "the Public Suffix List " + quoted(origin) +
                         " could not be parsed (libpsl read no list from it)"};
  }
  std::shared_ptr<const PublicSuffixList> list(new PublicSuffixList(context));
  // libpsl accepts any text as a list of zero rules: a file that is not the list (or a truncated
  // one) is caught here, before every domain would be judged by its last label alone.
  if (!list->is_tld("com") || !list->is_icann_suffix("gov.uk")) {
    return {nullptr, "the Public Suffix List " + quoted(origin) +
                         " does not look like one (it has no rule for \"com\" or \"gov.uk\")"};
  }
  return {std::move(list), {}};
}

PublicSuffixListLoad PublicSuffixList::load(std::string_view path) {
  const std::string name(path);
  ClosingFile file{std::fopen(name.c_str(), "rb")};
  if (file.file == nullptr) {
    return {nullptr, "cannot read the Public Suffix List " + quoted(path) + ": " +
                         std::strerror(errno) +
                         " (install Debian's publicsuffix package, or give a copy of "
                         "public_suffix_list.dat from publicsuffix.org)"};
  }
  return checked(psl_load_fp(file.file), path);
}

PublicSuffixListLoad PublicSuffixList::parse(std::string_view text, std::string_view origin) {
  std::string copy(text);
  ClosingFile file{copy.empty() ? nullptr : fmemopen(copy.data(), copy.size(), "rb")};
  if (file.file == nullptr) {
    return checked(nullptr, origin);
  }
  return checked(psl_load_fp(file.file), origin);
}

bool PublicSuffixList::is_icann_suffix(std::string_view suffix) const {
  const std::string text(suffix);
  return psl_is_public_suffix2(context_, text.c_str(),
                               PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

bool PublicSuffixList::is_tld(std::string_view label) const {
  return !label.empty() && label.find('.') == std::string_view::npos && is_icann_suffix(label);
}

std::string_view PublicSuffixList::public_suffix(std::string_view domain) const {
  // Label-aligned suffixes from the longest that leaves a label before it to the shortest: the
  // first the list holds is the longest rule.
  for (std::size_t dot = domain.find('.'); dot != std::string_view::npos;
       dot = domain.find('.', dot + 1)) {
    const std::string_view suffix = domain.substr(dot + 1);
    if (is_icann_suffix(suffix)) {
      return suffix;
    }
  }
  const std::size_t dot = domain.rfind('.');
  return dot == std::string_view::npos ? domain : domain.substr(dot + 1);
}

}  // namespace misdirect::inspect
