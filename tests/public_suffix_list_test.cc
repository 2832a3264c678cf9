// Tests for PublicSuffixList: loading (and refusing) lists, the split, and real TLDs.
#include <boost/test/unit_test.hpp>

#include <string>

#include "inspect/public_suffix_list.h"
#include "tests/support/public_suffixes.h"

namespace misdirect::inspect {

BOOST_AUTO_TEST_SUITE(public_suffix_list)

BOOST_AUTO_TEST_CASE(a_missing_or_wrong_file_is_refused_with_its_name) {
  const PublicSuffixListLoad missing = PublicSuffixList::load("/nonexistent/psl.dat");
  BOOST_TEST(missing.list == nullptr);
  BOOST_TEST(missing.error ==
             "cannot read the Public Suffix List \"/nonexistent/psl.dat\": No such file or "
             "directory (install Debian's publicsuffix package, or give a copy of "
             "public_suffix_list.dat from publicsuffix.org)");
  const PublicSuffixListLoad text = PublicSuffixList::parse("not a list\n", "notes.txt");
  BOOST_TEST(text.list == nullptr);
  BOOST_TEST(text.error == "the Public Suffix List \"notes.txt\" does not look like one (it has "
                           "no rule for \"com\" or \"gov.uk\")");
  BOOST_TEST(PublicSuffixList::parse("", "empty").list == nullptr);
}

BOOST_AUTO_TEST_CASE(a_small_list_in_memory) {
  const PublicSuffixListLoad loaded = PublicSuffixList::parse(
      "// ===BEGIN ICANN DOMAINS===\n"
      "com\nuk\ngov.uk\n*.ck\n!www.ck\n"
      "// ===END ICANN DOMAINS===\n"
      "// ===BEGIN PRIVATE DOMAINS===\n"
      "blogspot.com\n"
      "// ===END PRIVATE DOMAINS===\n",
      "small");
  BOOST_TEST_REQUIRE(loaded.list != nullptr, loaded.error);
  const PublicSuffixList& list = *loaded.list;
  BOOST_TEST(list.public_suffix("mod.gov.uk") == "gov.uk");
  BOOST_TEST(list.public_suffix("a.b.mod.gov.uk") == "gov.uk");
  BOOST_TEST(list.public_suffix("gov.uk") == "uk");  // a label must stay before the suffix
  BOOST_TEST(list.public_suffix("x.foo.ck") == "foo.ck");  // wildcard
  BOOST_TEST(list.public_suffix("www.ck") == "ck");        // exception
  // The private section and the implicit "*" rule do not count.
  BOOST_TEST(list.public_suffix("me.blogspot.com") == "com");
  BOOST_TEST(list.public_suffix("army.zz") == "zz");
  BOOST_TEST(list.is_tld("com"));
  BOOST_TEST(!list.is_tld("zz"));
  BOOST_TEST(!list.is_tld("gov.uk"));
  BOOST_TEST(!list.is_tld(""));
}

BOOST_AUTO_TEST_CASE(debians_list_knows_the_government_suffixes) {
  const PublicSuffixList& list = test_public_suffixes();
  BOOST_TEST(list.public_suffix("army.mil") == "mil");
  BOOST_TEST(list.public_suffix("justice.gov.ie") == "gov.ie");
  BOOST_TEST(list.public_suffix("navy.mil.ph") == "mil.ph");
  BOOST_TEST(list.public_suffix("bundesheer.gv.at") == "gv.at");
  BOOST_TEST(list.public_suffix("mindefensa.gov.co") == "gov.co");
  BOOST_TEST(list.public_suffix("mod.gov.uk") == "gov.uk");
  BOOST_TEST(list.public_suffix("examplebank.co.uk") == "co.uk");
  BOOST_TEST(list.is_tld("ml"));
  BOOST_TEST(list.is_tld("mil"));
  BOOST_TEST(list.is_tld("xn--p1ai"));  // .рф in A-label form
  BOOST_TEST(!list.is_tld("mi"));
  BOOST_TEST(!list.is_tld("gv"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
