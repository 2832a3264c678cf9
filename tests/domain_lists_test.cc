// Tests for the list reader: comments, blanks, dedupe, and refusals that name file and line.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inspect/domain_lists.h"

namespace misdirect::inspect {
namespace {

using Domains = std::vector<std::string>;

// A file in a fresh temporary directory, removed with the fixture.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("misdirect-domain-lists-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }

  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(domain_lists)

BOOST_AUTO_TEST_CASE(comments_blanks_whitespace_and_crlf) {
  const ListParseResult result = parse_domain_list(
      "# protected domains\n"
      "\n"
      "  Army.MIL.  \n"
      "navy.mil # the navy\r\n"
      "\t\r\n"
      "   # indented comment\n"
      "mod.gov.uk",
      "lists/protected.txt");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(result.domains == (Domains{"army.mil", "navy.mil", "mod.gov.uk"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(u_labels_are_converted_and_duplicates_keep_the_first) {
  const ListParseResult result = parse_domain_list(
      "\xEF\xBB\xBF"  // a byte-order mark is not data
      "bücher.example\n"
      "army.mil\n"
      "xn--bcher-kva.example\n"
      "ARMY.mil.\n"
      "examplebank.com\n",
      "allow.txt");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(result.domains == (Domains{"xn--bcher-kva.example", "army.mil", "examplebank.com"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_nfd_entry_protects_the_same_domain_as_nfc) {
  // "mu\u0308nchen.de" (u + combining diaeresis) and "münchen.de" are one domain after UTS #46.
  const ListParseResult result =
      parse_domain_list("mu\xCC\x88nchen.de\nm\xC3\xBCnchen.de\n\xEF\xBC\xA1RMY.mil\n", "protected.txt");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(result.domains == (Domains{"xn--mnchen-3ya.de", "army.mil"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_bad_line_refuses_the_whole_list_with_its_line_number) {
  const ListParseResult result =
      parse_domain_list("army.mil\n# fine so far\nnavy.mil\nar my.mil\nmod.gov.uk\n",
                        "lists/protected.txt");
  BOOST_TEST(!result.ok());
  BOOST_TEST(result.domains.empty());
  BOOST_TEST(result.error ==
             "lists/protected.txt:4: \"ar my.mil\" is not a valid domain: invalid character");
}

BOOST_AUTO_TEST_CASE(each_reason_is_reported) {
  BOOST_TEST(parse_domain_list("ok.example\n[192.0.2.1]\n", "f").error ==
             "f:2: \"[192.0.2.1]\" is not a valid domain: invalid character");
  BOOST_TEST(parse_domain_list("xn--bcher-kv.example", "f").error ==
             "f:1: \"xn--bcher-kv.example\" is not a valid domain: invalid IDN A-label (xn-- "
             "punycode)");
  BOOST_TEST(parse_domain_list("a..b\n", "f").error ==
             "f:1: \"a..b\" is not a valid domain: empty label");
  BOOST_TEST(parse_domain_list("\n\nb\xFF.example\n", "f").error ==
             "f:3: \"b\xFF.example\" is not a valid domain: invalid UTF-8");
  // Control bytes are escaped so the message stays one printable line.
  BOOST_TEST(parse_domain_list("a\x01" "b.example\n", "f").error ==
             "f:1: \"a\\x01b.example\" is not a valid domain: invalid character");
}

BOOST_AUTO_TEST_CASE(a_bare_tld_is_refused_in_either_list) {
  const ListParseResult result = parse_domain_list("army.mil\nmil\n", "protected.txt");
  BOOST_TEST(result.domains.empty());
  BOOST_TEST(result.error ==
             "protected.txt:2: \"mil\" is not a valid domain: a bare top-level domain (one "
             "label); list whole domains such as \"army.mil\"");
  BOOST_TEST(!validate_domain_list({"com"}, "allow").ok());
}

BOOST_AUTO_TEST_CASE(an_empty_list_is_valid) {
  const ListParseResult result = parse_domain_list("# nothing yet\n\n", "f");
  BOOST_TEST(result.ok());
  BOOST_TEST(result.domains.empty());
}

BOOST_AUTO_TEST_CASE(validate_names_the_element) {
  const ListParseResult good = validate_domain_list({"Army.mil", "bücher.example", "army.mil."},
                                                    "protected");
  BOOST_TEST_REQUIRE(good.ok());
  BOOST_TEST(good.domains == (Domains{"army.mil", "xn--bcher-kva.example"}),
             boost::test_tools::per_element());

  const ListParseResult bad =
      validate_domain_list({"army.mil", "navy.mil", "mod.gov.uk", "ar my.mil"}, "protected");
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.domains.empty());
  BOOST_TEST(bad.error == "protected[3]: \"ar my.mil\" is not a valid domain: invalid character");
  // Elements are taken exactly as given: no comments, no trimming.
  BOOST_TEST(validate_domain_list({" army.mil"}, "allow").error ==
             "allow[0]: \" army.mil\" is not a valid domain: invalid character");
}

BOOST_AUTO_TEST_CASE(files_are_read_and_named_in_errors) {
  const TempDir dir;
  const std::string good = dir.write("protected.txt", "army.mil\r\nnavy.mil\r\n");
  const ListParseResult read = read_domain_list_file(good);
  BOOST_TEST_REQUIRE(read.ok());
  BOOST_TEST(read.domains == (Domains{"army.mil", "navy.mil"}), boost::test_tools::per_element());

  const std::string bad = dir.write("bad.txt", "army.mil\n-navy.mil\n");
  BOOST_TEST(read_domain_list_file(bad).error ==
             bad + ":2: \"-navy.mil\" is not a valid domain: hyphen at the start or end of a "
                   "label (or \"--\" in positions 3-4 of an IDN label)");

  const std::string missing = dir.path("missing.txt");
  BOOST_TEST(read_domain_list_file(missing).error ==
             missing + ": cannot open: No such file or directory");

  // A sparse file just over the 64 MiB bound: refused before anything is read.
  const std::string huge = dir.write("huge.txt", "army.mil\n");
  std::filesystem::resize_file(huge, (std::uintmax_t{64} << 20) + 1);
  BOOST_TEST(read_domain_list_file(huge).error ==
             huge + ": larger than 64 MiB; a domain list this big is a mistake");

  const std::string directory = dir.path("");
  const ListParseResult not_a_file = read_domain_list_file(directory);
  BOOST_TEST(!not_a_file.ok());
  BOOST_TEST(not_a_file.error.starts_with(directory + ": cannot read: "));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
