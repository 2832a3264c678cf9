// Tests for smtp_address: the percent hack's next-hop domain (parse_smtp_path is exercised through
// SmtpSession in smtp_session_test).
#include <boost/test/unit_test.hpp>

#include <string_view>

#include "inspect/smtp_address.h"

using misdirect::inspect::parse_smtp_path;
using misdirect::inspect::percent_hack_domain;

namespace {

// The next hop of the mailbox in "RCPT TO:<argument>", as the flow asks for it.
std::string_view next_hop(std::string_view argument) {
  const auto path = parse_smtp_path(argument);
  BOOST_REQUIRE(path.error == misdirect::inspect::SmtpPathError::kOk);
  return percent_hack_domain(path.address, path.domain);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(smtp_address)

BOOST_AUTO_TEST_CASE(the_domain_after_the_last_percent_of_the_local_part) {
  BOOST_TEST(next_hop("<user%army.ml@relay.example>") == "army.ml");
  // Relays rewrite the last '%' to '@' hop by hop: the next hop is after the last one.
  BOOST_TEST(next_hop("<user%second.example%army.ml@relay.example>") == "army.ml");
  BOOST_TEST(next_hop("<\"user%army.ml\"@relay.example>") == "army.ml");
  BOOST_TEST(next_hop("<@route.example:user%army.ml@relay.example>") == "army.ml");
  BOOST_TEST(next_hop("user%ARMY.ML.@relay.example") == "ARMY.ML.");  // as sent: normalised later
}

BOOST_AUTO_TEST_CASE(no_percent_no_next_hop) {
  BOOST_TEST(next_hop("<user@army.ml>").empty());
  BOOST_TEST(next_hop("<user%@relay.example>").empty());
  BOOST_TEST(next_hop("<postmaster>").empty());
  // A '%' in the domain part is not the local part's.
  BOOST_TEST(percent_hack_domain("user@relay%army.ml", "relay%army.ml").empty());
  // Inconsistent arguments (the domain is not the address's tail) give nothing.
  BOOST_TEST(percent_hack_domain("user%army.ml@relay.example", "other.example").empty());
  BOOST_TEST(percent_hack_domain("", "").empty());
}

BOOST_AUTO_TEST_SUITE_END()
