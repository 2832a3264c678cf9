// Tests for ListStore: the saved lists round-trip, and a bad file is named, never half-loaded.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "control/list_store.h"

namespace misdirect::control {
namespace {

struct StateDir {
  StateDir() {
    char pattern[] = "/tmp/misdirect-state-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    root = pattern;
    path = root + "/state";
  }
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
  void write(const std::string& text) const {
    std::ofstream(path + "/lists.json") << text;
  }
  std::string root;
  std::string path;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(list_store)

BOOST_FIXTURE_TEST_CASE(nothing_saved_is_not_an_error, StateDir) {
  const ListLoadResult loaded = ListStore(path).load();
  BOOST_TEST(loaded.ok());
  BOOST_TEST(!loaded.lists.has_value());
}

BOOST_FIXTURE_TEST_CASE(prepare_creates_the_directory, StateDir) {
  BOOST_TEST(ListStore(path).prepare() == "");
  BOOST_TEST(std::filesystem::is_directory(path));
  const std::string file = root + "/file";
  std::ofstream(file) << "x";
  BOOST_TEST(ListStore(file).prepare() == "--state-dir: " + file + " is not a directory");
}

BOOST_FIXTURE_TEST_CASE(prepare_creates_missing_parents_private, StateDir) {
  const std::string nested = root + "/var/lib/misdirect";
  BOOST_TEST(ListStore(nested).prepare() == "");
  BOOST_TEST(std::filesystem::is_directory(nested));
  const auto permissions = std::filesystem::status(root + "/var").permissions();
  BOOST_TEST(((permissions & std::filesystem::perms::others_all) == std::filesystem::perms::none));
  const std::string file = root + "/plain";
  std::ofstream(file) << "x";
  BOOST_TEST(ListStore(file + "/below").prepare().find("--state-dir: cannot create " + file) == 0u);
}

BOOST_FIXTURE_TEST_CASE(saved_lists_load_back, StateDir) {
  const ListStore store(path);
  BOOST_REQUIRE(store.prepare().empty());
  BOOST_TEST(store.save({{"army.mil", "navy.mil"}, {"army.ml"}}) == "");
  BOOST_TEST(store.save({{"af.mil"}, {}}) == "");
  const ListLoadResult loaded = store.load();
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(loaded.lists->protected_domains == (std::vector<std::string>{"af.mil"}));
  BOOST_TEST(loaded.lists->allow.empty());
  BOOST_TEST(!std::filesystem::exists(path + "/lists.json.tmp"));
}

BOOST_FIXTURE_TEST_CASE(a_bad_file_names_the_problem, StateDir) {
  const ListStore store(path);
  BOOST_REQUIRE(store.prepare().empty());
  const std::string file = path + "/lists.json";
  write(R"({"format":"misdirect-lists/1","protected":["a.mil"],"allow":[)");
  BOOST_TEST(store.load().error ==
             file + ": invalid JSON at byte 61: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
  write(R"({"protected":["a.mil"],"allow":[]})");
  BOOST_TEST(store.load().error ==
             file + ": not a misdirect lists file (expected \"format\": \"misdirect-lists/1\")");
  write(R"({"format":"misdirect-lists/1","protected":["a.mil"]})");
  BOOST_TEST(store.load().error == file + ": missing \"allow\"");
  write(R"({"format":"misdirect-lists/1","protected":["a.mil",1],"allow":[]})");
  BOOST_TEST(store.load().error == file + ": protected[1] is not a string");
  write(R"({"format":"misdirect-lists/1","protected":["a.mil","ar my.mil"],"allow":[]})");
  const ListLoadResult bad_domain = store.load();
  BOOST_TEST(!bad_domain.lists.has_value());
  BOOST_TEST(bad_domain.error.rfind(file + ": protected[1]: \"ar my.mil\" is not a valid domain", 0) == 0U);
}

BOOST_FIXTURE_TEST_CASE(save_never_follows_a_symlink_planted_at_the_temporary_name, StateDir) {
  ListStore store(path);
  BOOST_REQUIRE(store.prepare() == "");
  const std::string victim = root + "/victim";
  std::ofstream(victim) << "precious\n";
  std::filesystem::create_symlink(victim, path + "/lists.json.tmp");
  inspect::DomainLists lists;
  lists.protected_domains = {"army.mil"};
  BOOST_TEST(store.save(lists) == "");
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(text == "precious\n");
  BOOST_TEST(!std::filesystem::is_symlink(path + "/lists.json"));
  const ListLoadResult loaded = store.load();
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded.lists.has_value());
  BOOST_TEST(loaded.lists->protected_domains.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(saved_lists_with_no_protected_domain_are_refused, StateDir) {
  ListStore store(path);
  BOOST_REQUIRE(store.prepare() == "");
  write(R"({"format":"misdirect-lists/1","protected":[],"allow":["example.org"]})");
  const ListLoadResult loaded = store.load();
  BOOST_TEST(!loaded.ok());
  BOOST_TEST(loaded.error == path + "/lists.json: no protected domains");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
