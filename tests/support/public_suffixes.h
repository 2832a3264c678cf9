// The Public Suffix List the unit tests generate look-alikes with: Debian's, loaded once.
//
// A machine without Debian's publicsuffix package stops the test that needs it with the
// loader's message (which names the file and the package) rather than a crash.
#pragma once

#include <boost/test/unit_test.hpp>

#include "inspect/public_suffix_list.h"

namespace misdirect::inspect {

inline const PublicSuffixList& test_public_suffixes() {
  static const PublicSuffixListLoad loaded = PublicSuffixList::load(kDebianPublicSuffixList);
  BOOST_TEST_REQUIRE(loaded.list != nullptr, loaded.error);
  return *loaded.list;
}

}  // namespace misdirect::inspect
