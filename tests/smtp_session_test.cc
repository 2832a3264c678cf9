// Tests for SmtpSession: every case runs whole, byte by byte and in random chunks (feed_both_ways).
#include <algorithm>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "inspect/smtp_address.h"
#include "inspect/smtp_session.h"
#include "tests/support/feed_both_ways.h"

namespace {

using misdirect::inspect::Direction;
using misdirect::inspect::SmtpConfig;
using misdirect::test_support::client;
using misdirect::test_support::client_lagging;
using misdirect::test_support::feed_both_ways;
using misdirect::test_support::finish;
using misdirect::test_support::gap;
using misdirect::test_support::server;
using misdirect::test_support::SmtpStep;
using misdirect::test_support::without_commands;
using Events = std::vector<std::string>;

Events envelope(const std::vector<SmtpStep>& script, const SmtpConfig& config = {}) {
  return without_commands(feed_both_ways(script, config).events);
}

void check(const Events& actual, const Events& expected) {
  BOOST_TEST(actual == expected, boost::test_tools::per_element());
  if (actual != expected) {
    std::string listing;
    for (const std::string& event : actual) {
      listing += "\n  " + event;
    }
    BOOST_TEST_MESSAGE("actual events:" << listing);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(smtp_session)

BOOST_AUTO_TEST_CASE(plain_session_delivers_with_every_event_in_order) {
  const auto run = feed_both_ways({
      server("220 mx.army.mil ESMTP\r\n"),
      client("EHLO client.example\r\n"),
      server("250-mx.army.mil\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"),
      client("MAIL FROM:<alice@example.com>\r\n"),
      server("250 2.1.0 Ok\r\n"),
      client("RCPT TO:<bob@army.ml>\r\n"),
      server("250 2.1.5 Ok\r\n"),
      client("DATA\r\n"),
      server("354 go ahead\r\n"),
      client("Subject: hi\r\n\r\nhello\r\n.\r\n"),
      server("250 2.0.0 queued\r\n"),
      client("QUIT\r\n"),
      server("221 bye\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd EHLO",
                        "ehlo client.example",
                        "cmd MAIL",
                        "mail t1 <alice@example.com>",
                        "cmd RCPT",
                        "rcpt t1 r1 <bob@army.ml> @army.ml",
                        "reply t1 r1 250",
                        "cmd DATA",
                        "end t1 data_accepted 250 delivered",
                        "cmd QUIT",
                    });
  BOOST_TEST(!run.encrypted);
}

BOOST_AUTO_TEST_CASE(every_verb_is_recognised_case_insensitively) {
  const auto run = feed_both_ways({
      client("helo a\r\nEhLo b\r\nnoop\r\nVRFY x\r\nexpn list\r\nhelp\r\nrset\r\nXFOO bar\r\nquit\r\n"),
  });
  check(run.events, {
                        "cmd HELO", "helo a", "cmd EHLO", "ehlo b", "cmd NOOP", "cmd VRFY", "cmd EXPN",
                        "cmd HELP", "cmd RSET", "cmd unknown", "anomaly client unknown_command", "cmd QUIT",
                    });
}

BOOST_AUTO_TEST_CASE(pipelined_recipients_are_matched_to_their_replies) {
  check(envelope({
            server("220 mx\r\n"),
            client("EHLO c\r\n"),
            server("250-mx\r\n250 PIPELINING\r\n"),
            client("MAIL FROM:<a@x.com> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<one@army.mil>\r\n"
                   "RCPT TO:<two@army.ml>\r\nRCPT TO:<three@amry.mil>\r\nDATA\r\n"),
            server("250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n354 go\r\n"),
            client("body\r\n.\r\n"),
            server("250 queued\r\n"),
            finish(),
        }),
        {
            "ehlo c",
            "mail t1 <a@x.com> [SIZE=100 BODY=8BITMIME]",
            "rcpt t1 r1 <one@army.mil> @army.mil",
            "rcpt t1 r2 <two@army.ml> @army.ml",
            "rcpt t1 r3 <three@amry.mil> @amry.mil",
            "reply t1 r1 250",
            "reply t1 r2 550",
            "reply t1 r3 250",
            "end t1 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(multi_line_replies_count_once) {
  check(envelope({
            server("220-mx first\r\n220-mx second\r\n220 mx ready\r\n"),
            client("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"),
            server("250-mx\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n250 ok\r\n550-5.1.1 first\r\n550 5.1.1 last\r\n"),
            finish(),
        }),
        {
            "ehlo c",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 550",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(body_lines_that_look_like_commands_are_not_commands) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<b@army.mil>\r\nDATA\r\n"),
            server("250 ok\r\n250 ok\r\n354 go\r\n"),
            client("RCPT TO:<evil@army.ml>\r\nMAIL FROM:<x@y>\r\n..\r\n.RCPT TO:<c@d>\r\nQUIT\r\n"),
            client(".\r\n"),
            server("250 ok\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.mil> @army.mil",
            "reply t1 r1 250",
            "end t1 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(body_terminator_tolerates_bare_lf) {
  check(envelope({
            client("MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nline\n.\nRCPT TO:<c@z>\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@y> @y",
            "rcpt t2 r2 <c@z> @z",
            "end t1 session_end 0",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(refused_data_returns_to_commands) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
            server("250 ok\r\n550 no\r\n554 no valid recipients\r\n"),
            client("RSET\r\nRCPT TO:<c@z>\r\n"),
            server("250 reset\r\n250 ok\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 550",
            "rcpt t2 r2 <c@z> @z",
            "end t1 reset 250",
            "reply t2 r2 250",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(bdat_chunks_are_skipped_exactly_even_when_they_hold_commands) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 24\r\nRCPT TO:<evil@army.ml>\r\n"
                   "BDAT 12 LAST\r\nQUIT\r\nRSET\r\n"),
            server("250 ok\r\n250 ok\r\n250 24 octets\r\n250 delivered\r\n"),
            client("RCPT TO:<after@z>\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 250",
            "end t1 data_accepted 250 delivered",
            "rcpt t2 r2 <after@z> @z",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(message_content_is_given_with_its_transaction) {
  // DATA content as sent (dot-stuffed, through its terminator); BDAT chunks exactly; content
  // presumed after a gap belongs to no transaction (t0): it starts after the first whole line,
  // which was read as a would-be command and found not to be one.
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
      server("250 ok\r\n250 ok\r\n354 go\r\n"),
      client("Subject: one\r\n\r\n..dots\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<c@y>\r\nBDAT 9\r\nSubject: BDAT 5 LAST\r\ntwo\r\n"),
      server("250 queued\r\n250 ok\r\n250 ok\r\n250 9\r\n250 done\r\n"),
      gap(Direction::kClientToServer, 10),
      client("partial line\r\nbody text\r\n.\r\n"),
      finish(),
  });
  BOOST_TEST(run.content == (std::vector<std::string>{
                                "content t1 data Subject: one\r\n\r\n..dots\r\n.\r\n",
                                "content t2 bdat Subject: ",
                                "content t2 bdat two\r\n",
                                "content t0 data .\r\n",
                            }),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bdat_zero_last_ends_the_transaction) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 5\r\nhelloBDAT 0 LAST\r\n"),
            server("250 ok\r\n250 ok\r\n250 5\r\n554 rejected\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 250",
            "end t1 data_rejected 554",
        });
}

BOOST_AUTO_TEST_CASE(malformed_bdat_sizes_are_anomalies_and_not_skipped) {
  const auto run = feed_both_ways({
      client("BDAT -5\r\nBDAT 99999999999999999999999\r\nBDAT x LAST\r\nBDAT 5 FIRST\r\nBDAT\r\n"
             "RCPT TO:<a@b>\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd BDAT", "anomaly client malformed_bdat",
                        "cmd BDAT", "anomaly client malformed_bdat",
                        "cmd BDAT", "anomaly client malformed_bdat",
                        "cmd BDAT", "anomaly client malformed_bdat",
                        "cmd BDAT", "anomaly client malformed_bdat",
                        "cmd RCPT", "rcpt t1 r1 <a@b> @b",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(starttls_followed_by_a_tls_record_stops_parsing) {
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("EHLO c\r\nMAIL FROM:<a@x>\r\n"),
      server("250 mx\r\n250 ok\r\n"),
      client("STARTTLS\r\n"),
      server("220 go ahead\r\n"),
      client(std::string("\x16\x03\x01\x00\x05hello RCPT TO:<x@y>\r\n", 26)),
      server("250 encrypted garbage\r\n"),
      finish(),
  });
  check(without_commands(run.events), {
                                          "ehlo c",
                                          "mail t1 <a@x>",
                                          "end t1 tls_started 220",
                                          "tls",
                                      });
  BOOST_TEST(run.encrypted);
}

BOOST_AUTO_TEST_CASE(plaintext_after_starttls_220_goes_on_with_an_anomaly) {
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("STARTTLS\r\n"),
      server("220 go ahead\r\n"),
      client("EHLO c\r\nRCPT TO:<b@y>\r\n"),
      server("250 mx\r\n250 ok\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd STARTTLS",
                        "anomaly client plaintext_after_starttls",
                        "cmd EHLO",
                        "ehlo c",
                        "cmd RCPT",
                        "rcpt t1 r1 <b@y> @y",
                        "reply t1 r1 250",
                        "end t1 session_end 0",
                    });
  BOOST_TEST(!run.encrypted);
}

BOOST_AUTO_TEST_CASE(starttls_refused_with_454_goes_on_in_plaintext) {
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("STARTTLS\r\n"),
      server("454 TLS not available\r\n"),
      client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"),
      server("250 ok\r\n250 ok\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd STARTTLS",
                        "cmd MAIL",
                        "mail t1 <a@x>",
                        "cmd RCPT",
                        "rcpt t1 r1 <b@y> @y",
                        "reply t1 r1 250",
                        "end t1 session_end 0",
                    });
  BOOST_TEST(!run.encrypted);
}

BOOST_AUTO_TEST_CASE(starttls_on_a_client_only_capture_is_decided_by_the_record) {
  const auto run = feed_both_ways({
      client("EHLO c\r\nSTARTTLS\r\n"),
      client(std::string("\x16\x03\x03\x01\x00", 5)),
      finish(),
  });
  check(run.events, {"cmd EHLO", "ehlo c", "cmd STARTTLS", "tls"});
  BOOST_TEST(run.encrypted);
}

BOOST_AUTO_TEST_CASE(auth_login_and_plain_expose_no_credentials) {
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("EHLO c\r\n"),
      server("250-mx\r\n250 AUTH LOGIN PLAIN\r\n"),
      client("AUTH LOGIN\r\n"),
      server("334 VXNlcm5hbWU6\r\n"),
      client("c2VjcmV0dXNlcg==\r\n"),
      server("334 UGFzc3dvcmQ6\r\n"),
      client("RUNQVA==\r\n"),
      server("235 2.7.0 ok\r\n"),
      client("AUTH PLAIN AHVzZXIAcGFzcw==\r\n"),
      server("503 already authenticated\r\n"),
      client("MAIL FROM:<a@x>\r\n"),
      server("250 ok\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd EHLO", "ehlo c", "cmd AUTH", "cmd AUTH", "cmd MAIL", "mail t1 <a@x>",
                        "end t1 session_end 0",
                    });
  for (const std::string& event : run.events) {
    BOOST_TEST(event.find("c2Vj") == std::string::npos);
    BOOST_TEST(event.find("AHVz") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(auth_without_server_replies_ends_at_the_first_command) {
  check(feed_both_ways({
                           client("AUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\nMAIL FROM:<a@x>\r\n"),
                           finish(),
                       })
            .events,
        {"cmd AUTH", "cmd MAIL", "mail t1 <a@x>", "end t1 session_end 0"});
}

BOOST_AUTO_TEST_CASE(a_10kb_line_is_consumed_counted_and_keeps_its_reply_slot) {
  const std::string long_line = "RCPT TO:<" + std::string(10 * 1024, 'a') + "@army.ml>\r\n";
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\n" + long_line + "RCPT TO:<b@y>\r\n"),
      server("250 ok\r\n500 line too long\r\n250 ok\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd MAIL", "mail t1 <a@x>",
                        "anomaly client line_too_long", "cmd RCPT",
                        "cmd RCPT", "rcpt t1 r1 <b@y> @y",
                        "reply t1 r1 250",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(line_bound_is_the_smaller_of_config_and_buffer) {
  SmtpConfig config;
  config.max_line_bytes = 16;
  check(feed_both_ways({client("RCPT TO:<abcdefghij@x>\r\nRCPT TO:<a@b>\r\n")}, config).events,
        {"anomaly client line_too_long", "cmd RCPT", "cmd RCPT", "rcpt t1 r1 <a@b> @b"});
}

BOOST_AUTO_TEST_CASE(nul_and_binary_bytes_never_become_addresses) {
  const auto run = feed_both_ways({
      client("EHLO c\r\n"),
      client(std::string("RCPT TO:<a\0b@army.ml>\r\n\x01\x02\xff\r\nRCPT TO:<ok@y>\r\n", 44)),
      finish(),
  });
  check(run.events, {
                        "cmd EHLO", "ehlo c",
                        "anomaly client binary_in_command", "cmd RCPT",
                        "anomaly client binary_in_command", "cmd unknown",
                        "cmd RCPT", "rcpt t1 r1 <ok@y> @y",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(a_binary_byte_anywhere_in_a_line_of_any_length_is_found) {
  // Lines are checked sixteen bytes a step (short ones as two overlapping halves): one binary
  // byte at each position of lines of 6 to 40 bytes; TAB and bytes from 0x80 are not binary.
  for (std::size_t length = 6; length <= 40; ++length) {
    const std::string clean = "NOOP " + std::string(length - 5, 'x');
    for (std::size_t at = 5; at < length; ++at) {
      for (const char bad : {'\x01', '\x7f', '\x1f', '\0'}) {
        std::string line = clean;
        line[at] = bad;
        const auto run = feed_both_ways({client(line + "\r\n")});
        check(run.events, {"anomaly client binary_in_command", "cmd NOOP"});
      }
      std::string allowed = clean;
      allowed[at] = at % 2 == 0 ? '\t' : '\xe9';
      check(feed_both_ways({client(allowed + "\r\n")}).events, {"cmd NOOP"});
    }
  }
}

BOOST_AUTO_TEST_CASE(rcpt_before_mail_gets_an_implicit_transaction) {
  check(envelope({
            server("220 mx\r\n"),
            client("RCPT TO:<early@army.ml>\r\n"),
            server("503 need MAIL\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"),
            server("250 ok\r\n250 ok\r\n"),
            finish(),
        }),
        {
            "rcpt t1 r1 <early@army.ml> @army.ml",
            "reply t1 r1 503",
            "mail t2 <a@x>",
            "rcpt t2 r2 <b@y> @y",
            "end t1 new_mail 250",
            "reply t2 r2 250",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(nested_mail_refused_after_its_reply_later_rcpts_join_the_open_transaction) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\n"),
            server("250 ok\r\n"),
            client("RCPT TO:<one@y>\r\n"),
            server("250 ok\r\n"),
            client("MAIL FROM:<b@x>\r\n"),
            server("503 nested MAIL\r\n"),
            client("RCPT TO:<two@y>\r\nDATA\r\n"),
            server("250 ok\r\n354 go\r\n"),
            client("x\r\n.\r\n"),
            server("250 queued\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "reply t1 r1 250",
            "anomaly client command_out_of_sequence",
            "mail t2 <b@x>",
            "rcpt t1 r2 <two@y> @y",
            "reply t1 r2 250",
            "end t1 data_accepted 250 delivered",
            "end t2 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(nested_mail_refused_under_pipelining_ends_with_the_open_transaction) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nMAIL FROM:<b@x>\r\nRCPT TO:<two@y>\r\nRSET\r\n"),
            server("250 ok\r\n250 ok\r\n503 nested\r\n250 ok\r\n250 reset\r\n"),
            client("RCPT TO:<three@y>\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "anomaly client command_out_of_sequence",
            "mail t2 <b@x>",
            "rcpt t2 r2 <two@y> @y",
            "reply t1 r1 250",
            "reply t2 r2 250",
            "end t1 reset 250",
            "end t2 reset 250",
            "rcpt t3 r3 <three@y> @y",
            "end t3 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(accepted_second_mail_ends_the_first_with_new_mail) {
  check(envelope({
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nMAIL FROM:<b@x>\r\nRCPT TO:<two@y>\r\n"),
            server("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "anomaly client command_out_of_sequence",
            "mail t2 <b@x>",
            "rcpt t2 r2 <two@y> @y",
            "reply t1 r1 250",
            "end t1 new_mail 250",
            "reply t2 r2 250",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(rset_mid_transaction_resets) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nRSET\r\nRCPT TO:<two@y>\r\n"),
            server("250 ok\r\n250 ok\r\n250 reset\r\n503 need MAIL\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "rcpt t2 r2 <two@y> @y",
            "reply t1 r1 250",
            "end t1 reset 250",
            "reply t2 r2 503",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(helo_mid_transaction_resets_and_a_refused_helo_does_not) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nEHLO again\r\n"),
            server("250 ok\r\n250 ok\r\n250 mx\r\n"),
            client("MAIL FROM:<b@x>\r\nHELO bad\r\n"),
            server("250 ok\r\n501 bad\r\n"),
            client("QUIT\r\n"),
            server("221 bye\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "ehlo again",
            "reply t1 r1 250",
            "end t1 reset 250",
            "mail t2 <b@x>",
            "helo bad",
            "end t2 quit 221",
        });
}

BOOST_AUTO_TEST_CASE(client_gap_resyncs_on_the_next_command_line) {
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\nRCPT TO:<tru"),
      gap(Direction::kClientToServer, 20),
      client("ncated@y>\r\nRCPT TO:<b@y>\r\n"),
      server("250 ok\r\n250 ok\r\n250 ok\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd MAIL", "mail t1 <a@x>",
                        "anomaly client resync_after_gap",
                        "cmd RCPT", "rcpt t1 r1 <b@y> @y",
                        "reply t1 r1 250",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(command_starting_where_a_client_gap_ends_is_not_discarded) {
  // The lost bytes were whole lines ("RCPT TO:<lost@y>\r\n"): the RCPT right after the gap is a
  // whole command, not the tail of a cut line.
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\n"),
      server("250 ok\r\n"),
      gap(Direction::kClientToServer, 18),
      client("RCPT TO:<bob@army.ml>\r\n"),
      server("251 ok\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd MAIL", "mail t1 <a@x>",
                        "anomaly client resync_after_gap",
                        "cmd RCPT", "rcpt t1 r1 <bob@army.ml> @army.ml",
                        "reply t1 r1 251",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(line_cut_by_a_client_gap_keeps_its_stand_in) {
  // The tail of a cut line looks like no command: it is dropped and keeps a place for its reply,
  // so the next RCPT is matched to the right reply.
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\nRCPT TO:<c"),
      gap(Direction::kClientToServer, 5),
      client("ut@y>\r\nRCPT TO:<b@y>\r\n"),
      server("250 ok\r\n251 ok\r\n550 no\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd MAIL", "mail t1 <a@x>",
                        "anomaly client resync_after_gap",
                        "cmd RCPT", "rcpt t1 r1 <b@y> @y",
                        "reply t1 r1 550",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(replies_that_overtake_their_commands_behind_a_hole_are_kept_for_them) {
  // The client's RCPT segment waits on a hole while the server's replies are already read.
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\n"),
      server("250 ok\r\n"),
      client_lagging(true),
      server("250 ok\r\n550 no\r\n"),
      client_lagging(false),
      client("RCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd MAIL", "mail t1 <a@x>",
                        "cmd RCPT", "rcpt t1 r1 <b@y> @y", "reply t1 r1 250",
                        "cmd RCPT", "rcpt t1 r2 <c@y> @y", "reply t1 r2 550",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(replies_seen_while_a_hole_was_open_answer_what_the_gap_swallowed) {
  const auto run = feed_both_ways({
      server("220 mx\r\n"),
      client("MAIL FROM:<a@x>\r\nRCPT TO:<q@na"),
      server("250 ok\r\n"),
      client_lagging(true),
      server("250 ok\r\n250 ok\r\n"),
      gap(Direction::kClientToServer, 23),
      client("y.mil>\r\nNOOP\r\n"),
      client_lagging(false),
      server("250 ok\r\n"),
      client("RCPT TO:<s@y>\r\n"),
      server("551 moved\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd MAIL", "mail t1 <a@x>",
                        "anomaly client resync_after_gap",
                        "cmd NOOP",
                        "cmd RCPT", "rcpt t1 r1 <s@y> @y", "reply t1 r1 551",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(a_client_command_completes_a_server_line_left_unterminated) {
  // A greeting with no line end, and an EHLO reply whose last line never comes: the client went
  // on, so for it both were complete; later replies stay matched to their commands.
  const auto run = feed_both_ways({
      server("220 mx ESMTP AAAA"),
      client("EHLO c\r\n"),
      server("250-mx.example\r\n"),
      client("MAIL FROM:<a@x>\r\n"),
      server("250 ok\r\n"),
      client("RCPT TO:<b@y>\r\n"),
      server("250 ok\r\n"),
      client("DATA\r\n"),
      server("354 go\r\n"),
      finish(),
  });
  check(run.events, {
                        "cmd EHLO", "ehlo c",
                        "cmd MAIL", "mail t1 <a@x>",
                        "cmd RCPT", "rcpt t1 r1 <b@y> @y", "reply t1 r1 250",
                        "cmd DATA",
                        "end t1 session_end 0",
                    });
}

BOOST_AUTO_TEST_CASE(client_gap_that_hid_data_presumes_content_until_the_terminator) {
  check(envelope({
            client("MAIL FROM:<a@x>\r\n"),
            gap(Direction::kClientToServer, 300),
            client("tail of a line\r\nmore content\r\nRCPT TO:<fake@army.ml>\r\n.\r\nRCPT TO:<real@y>\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "anomaly client resync_after_gap",
            "anomaly client unknown_command",
            "rcpt t2 r1 <real@y> @y",
            "end t1 session_end 0",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(client_gap_in_data_content_keeps_skipping_and_the_server_reply_ends_it) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
            server("250 ok\r\n250 ok\r\n354 go\r\n"),
            client("content\r\n"),
            gap(Direction::kClientToServer, 1000),
            client("RCPT TO:<body@army.ml>\r\n"),
            server("250 queued\r\n"),
            client("RCPT TO:<next@z>\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 250",
            "anomaly client resync_after_gap",
            "anomaly server reply_without_command",
            "rcpt t2 r2 <next@z> @z",
            "end t1 session_end 0",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(client_gap_inside_a_bdat_chunk_is_subtracted) {
  check(envelope({
            client("BDAT 10\r\nabc"),
            gap(Direction::kClientToServer, 4),
            client("xyzRCPT TO:<a@b>\r\n"),
            finish(),
        }),
        {"anomaly client resync_after_gap", "rcpt t1 r1 <a@b> @b", "end t1 session_end 0"});
}

BOOST_AUTO_TEST_CASE(server_gap_drops_outstanding_commands_and_resumes_on_the_next_reply) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\n"),
            server("250 o"),
            gap(Direction::kServerToClient, 30),
            server("k\r\n"),
            client("RCPT TO:<two@y>\r\n"),
            server("550 no\r\n"),
            client("RSET\r\n"),
            server("250 reset\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "anomaly server resync_after_gap",
            "rcpt t1 r2 <two@y> @y",
            "reply t1 r2 550",
            "end t1 reset 250",
        });
}

BOOST_AUTO_TEST_CASE(finish_ends_transactions_with_unanswered_recipients) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@army.ml>\r\nRCPT TO:<two@y>\r\n"),
            server("250 ok\r\n250 ok\r\n"),
            finish(),
            client("RCPT TO:<late@y>\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@army.ml> @army.ml",
            "rcpt t1 r2 <two@y> @y",
            "reply t1 r1 250",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(address_forms_are_tolerated) {
  check(envelope({
            client("MAIL FROM:<> SMTPUTF8\r\n"
                   "RCPT TO: <space@army.ml>\r\n"
                   "rcpt to:bare@army.ml NOTIFY=NEVER\r\n"
                   "RCPT TO:<@relay1,@relay2:routed@army.ml>\r\n"
                   "RCPT TO:<\"a@b>c\"@quoted.army.ml>\r\n"
                   "RCPT TO:<dot@army.ml.> ORCPT=rfc822;x@y\r\n"
                   "RCPT TO:<postmaster>\r\n"
                   "RCPT TO:<[192.0.2.1]@x>\r\n"),
            finish(),
        }),
        {
            "mail t1 <> [SMTPUTF8] smtputf8",
            "rcpt t1 r1 <space@army.ml> @army.ml",
            "rcpt t1 r2 <bare@army.ml> @army.ml [NOTIFY=NEVER]",
            "rcpt t1 r3 <routed@army.ml> @army.ml",
            "rcpt t1 r4 <\"a@b>c\"@quoted.army.ml> @quoted.army.ml",
            "rcpt t1 r5 <dot@army.ml.> @army.ml. [ORCPT=rfc822;x@y]",
            "rcpt t1 r6 <postmaster> @",
            "rcpt t1 r7 <[192.0.2.1]@x> @x",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(malformed_rcpt_and_mail_are_anomalies_but_still_commands) {
  check(feed_both_ways({
                           client("RCPT TO:\r\nRCPT TO:<>\r\nRCPT <a@b>\r\nRCPT TO:<a@b\r\nMAIL TO:<x>\r\n"
                                  "RCPT TO:<@relay-without-colon>\r\n"),
                       })
            .events,
        {
            "cmd RCPT", "anomaly client malformed_rcpt",
            "cmd RCPT", "anomaly client malformed_rcpt",
            "cmd RCPT", "anomaly client malformed_rcpt",
            "cmd RCPT", "anomaly client malformed_rcpt",
            "cmd MAIL", "anomaly client malformed_mail",
            "cmd RCPT", "anomaly client malformed_rcpt",
        });
}

BOOST_AUTO_TEST_CASE(pipeline_overflow_is_counted_and_bounded) {
  SmtpConfig config;
  config.max_pending_commands = 2;
  check(envelope({
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nRCPT TO:<two@y>\r\n"),
            server("250 ok\r\n250 ok\r\n250 ok\r\n"),
            finish(),
        },
                 config),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "rcpt t1 r2 <two@y> @y",
            "anomaly client pipeline_overflow",
            "reply t1 r1 250",
            "anomaly server reply_without_command",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(greeting_is_not_a_reply_even_after_the_first_command) {
  check(envelope({
            client("EHLO c\r\n"),
            server("220 mx ready\r\n250 mx\r\n"),
            client("MAIL FROM:<a@x>\r\n"),
            server("250 ok\r\n"),
            finish(),
        }),
        {"ehlo c", "mail t1 <a@x>", "end t1 session_end 0"});
}

BOOST_AUTO_TEST_CASE(malformed_replies_are_counted) {
  check(envelope({
            server("220 mx\r\n"),
            client("NOOP\r\n"),
            server("hello\r\n25x\r\n250 ok\r\n"),
        }),
        {"anomaly server malformed_reply", "anomaly server malformed_reply"});
}

BOOST_AUTO_TEST_CASE(reply_codes_are_read_whole_or_in_pieces_alike) {
  // "ddd " whole in a chunk is read at once; anything else digit by digit.
  check(envelope({
            server("220 mx\r\n"),
            client("RCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nRCPT TO:<c@x.example>\r\n"
                   "RCPT TO:<d@x.example>\r\n"),
            server("2a0 odd\r\n550-no\r\n550 no\r\n251\r\n 250 x\r\n452 full\r\n"),
            finish(),
        }),
        {
            "rcpt t1 r1 <a@x.example> @x.example",
            "rcpt t1 r2 <b@x.example> @x.example",
            "rcpt t1 r3 <c@x.example> @x.example",
            "rcpt t1 r4 <d@x.example> @x.example",
            "anomaly server malformed_reply",
            "reply t1 r1 550",
            "reply t1 r2 251",
            "anomaly server malformed_reply",
            "reply t1 r3 452",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(midstream_pickup_inside_a_body_reports_no_recipients_from_it) {
  check(envelope({
            client("rest of a message line\r\nRCPT TO:<fake@army.ml>\r\n.\r\n"),
            server("250 queued\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<real@army.ml>\r\n"),
            server("250 ok\r\n250 ok\r\n"),
            finish(),
        }),
        {
            "anomaly client unknown_command",
            "mail t1 <a@x>",
            "rcpt t1 r1 <real@army.ml> @army.ml",
            "reply t1 r1 250",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(smtp_path_parser_cases) {
  using misdirect::inspect::parse_smtp_path;
  using misdirect::inspect::SmtpPathError;
  const auto routed = parse_smtp_path(" <@a,@b:user@dom.> X=1");
  BOOST_TEST(routed.address == "user@dom.");
  BOOST_TEST(routed.domain == "dom.");
  BOOST_TEST(routed.parameters == "X=1");
  BOOST_TEST(parse_smtp_path("<\"q\\\"@x\"@d>").domain == "d");
  BOOST_TEST(static_cast<int>(parse_smtp_path("").error) == static_cast<int>(SmtpPathError::kMissing));
  BOOST_TEST(static_cast<int>(parse_smtp_path("<a@b").error) == static_cast<int>(SmtpPathError::kUnterminated));
  BOOST_TEST(static_cast<int>(parse_smtp_path("<@r>").error) == static_cast<int>(SmtpPathError::kBadSourceRoute));
  BOOST_TEST(misdirect::inspect::has_esmtp_keyword("SIZE=1 smtputf8", "SMTPUTF8"));
  BOOST_TEST(!misdirect::inspect::has_esmtp_keyword("SMTPUTF8X=1", "SMTPUTF8"));
}

BOOST_AUTO_TEST_CASE(smtp_path_plain_and_quoted_forms_split_alike) {
  using misdirect::inspect::parse_smtp_path;
  using misdirect::inspect::SmtpPathError;
  // Plain paths (no quote before the first '>') and quoted ones take different routes.
  const auto plain = parse_smtp_path("<a@b@c.example>  NOTIFY=NEVER ");
  BOOST_TEST(plain.address == "a@b@c.example");
  BOOST_TEST(plain.domain == "c.example");
  BOOST_TEST(plain.parameters == "NOTIFY=NEVER ");
  const auto null_path = parse_smtp_path("<>");
  BOOST_TEST(null_path.address.empty());
  BOOST_TEST(null_path.domain.empty());
  BOOST_TEST(static_cast<int>(null_path.error) == static_cast<int>(SmtpPathError::kOk));
  BOOST_TEST(parse_smtp_path("<user@>").domain.empty());
  BOOST_TEST(parse_smtp_path("<user@>").address == "user@");
  BOOST_TEST(parse_smtp_path("<postmaster>").domain.empty());
  BOOST_TEST(parse_smtp_path("<a\\b@d>x").address == "a\\b@d");
  BOOST_TEST(parse_smtp_path("<a\\b@d>x").parameters == "x");
  // A quote before the first '>' (the '>' is inside it): the quoted parser finds the real end.
  const auto quoted = parse_smtp_path("<\"x>y@z\"@real.example> P=1");
  BOOST_TEST(quoted.address == "\"x>y@z\"@real.example");
  BOOST_TEST(quoted.domain == "real.example");
  BOOST_TEST(quoted.parameters == "P=1");
  // A quote after the first '>' is a parameter's business.
  const auto after = parse_smtp_path("<u@d.example> X=\"q\"");
  BOOST_TEST(after.domain == "d.example");
  BOOST_TEST(after.parameters == "X=\"q\"");
  BOOST_TEST(static_cast<int>(parse_smtp_path("<").error) == static_cast<int>(SmtpPathError::kUnterminated));
  BOOST_TEST(static_cast<int>(parse_smtp_path("<\"a>b").error) ==
             static_cast<int>(SmtpPathError::kUnterminated));
  BOOST_TEST(static_cast<int>(parse_smtp_path("<@r1,@r2>").error) ==
             static_cast<int>(SmtpPathError::kBadSourceRoute));
}

BOOST_AUTO_TEST_CASE(verbs_are_whole_words_of_letters) {
  const auto run = feed_both_ways({
      client("rCpT TO:<a@b.example>\r\nRCP\x14 x\r\nRCPTX TO:<c@d>\r\nHEL0 x\r\nStartTlsX\r\nSTARTTLS\r\n"),
  });
  check(run.events, {
                        "cmd RCPT", "rcpt t1 r1 <a@b.example> @b.example",
                        "anomaly client binary_in_command", "cmd unknown",
                        "cmd unknown", "anomaly client unknown_command",
                        "cmd unknown", "anomaly client unknown_command",
                        "cmd unknown", "anomaly client unknown_command",
                        "cmd STARTTLS",
                    });
}

BOOST_AUTO_TEST_CASE(next_transaction_pipelined_after_the_end_of_data) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nDATA\r\n"),
            server("250 ok\r\n250 ok\r\n354 go\r\n"),
            client("first\r\n.\r\nMAIL FROM:<b@x>\r\nRCPT TO:<two@y>\r\nDATA\r\n"),
            server("451 try later\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            client("second\r\n.\r\n"),
            server("250 ok\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "reply t1 r1 250",
            "mail t2 <b@x>",
            "rcpt t2 r2 <two@y> @y",
            "end t1 data_rejected 451",
            "reply t2 r2 250",
            "end t2 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(server_gap_over_the_data_reply_lets_the_next_reply_end_presumed_content) {
  check(envelope({
            server("220 mx\r\n"),
            client("MAIL FROM:<a@x>\r\nRCPT TO:<one@y>\r\nDATA\r\n"),
            server("250 ok\r\n250 ok\r\n"),
            gap(Direction::kServerToClient, 40),
            server("\r\n"),
            client("RSET\r\n"),
            server("250 reset\r\n"),
            client("RCPT TO:<two@y>\r\n"),
            server("503 need MAIL\r\n"),
            finish(),
        }),
        {
            "mail t1 <a@x>",
            "rcpt t1 r1 <one@y> @y",
            "reply t1 r1 250",
            "anomaly server resync_after_gap",
            "anomaly server reply_without_command",
            "rcpt t2 r2 <two@y> @y",
            "reply t2 r2 503",
            "end t1 session_end 0",
            "end t2 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(auth_plain_with_an_initial_response_is_one_command) {
  check(feed_both_ways({
                           server("220 mx\r\n"),
                           client("AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
                           server("235 2.7.0 Authentication successful\r\n"),
                           client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"),
                           server("250 ok\r\n250 ok\r\n"),
                           finish(),
                       })
            .events,
        {
            "cmd AUTH", "cmd MAIL", "mail t1 <a@x>", "cmd RCPT", "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 250", "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(empty_lines_are_unknown_commands_that_keep_their_reply_slot) {
  check(envelope({
            server("220 mx\r\n"),
            client("EHLO c\r\n\r\nRCPT TO:<b@y>\r\n"),
            server("250 mx\r\n500 empty\r\n250 ok\r\n"),
            finish(),
        }),
        {
            "ehlo c",
            "anomaly client unknown_command",
            "rcpt t1 r1 <b@y> @y",
            "reply t1 r1 250",
            "end t1 session_end 0",
        });
}

BOOST_AUTO_TEST_CASE(nothing_is_parsed_after_finish) {
  const auto run = feed_both_ways({
      client("MAIL FROM:<a@x>\r\n"),
      finish(),
      client("RCPT TO:<b@y>\r\n"),
      server("250 ok\r\n"),
      gap(Direction::kClientToServer, 5),
      finish(),
  });
  check(run.events, {"cmd MAIL", "mail t1 <a@x>", "end t1 session_end 0"});
}

// ---- LMTP (RFC 2033) -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lmtp_answers_the_content_once_per_accepted_recipient_in_rcpt_order) {
  const auto run = feed_both_ways({
      server("220 store.example LMTP ready\r\n"),
      client("LHLO hub.example\r\n"),
      server("250-store.example\r\n250 PIPELINING\r\n"),
      client("MAIL FROM:<alice@example.com>\r\n"),
      server("250 2.1.0 Ok\r\n"),
      client("RCPT TO:<bob@army.ml>\r\n"),
      server("250 2.1.5 Ok\r\n"),
      client("RCPT TO:<nobody@army.ml>\r\n"),
      server("550 5.1.1 no such user\r\n"),
      client("RCPT TO:<carol@amry.mil>\r\n"),
      server("250 2.1.5 Ok\r\n"),
      client("DATA\r\n"),
      server("354 go ahead\r\n"),
      client("Subject: hi\r\n\r\nhello\r\n.\r\n"),
      server("250 2.0.0 <bob@army.ml> delivered\r\n"),
      server("452 4.2.2 <carol@amry.mil> mailbox full\r\n"),
      client("QUIT\r\n"),
      server("221 bye\r\n"),
      finish(),
  });
  check(without_commands(run.events), {
                                          "lhlo hub.example",
                                          "mail t1 <alice@example.com>",
                                          "rcpt t1 r1 <bob@army.ml> @army.ml",
                                          "reply t1 r1 250",
                                          "rcpt t1 r2 <nobody@army.ml> @army.ml",
                                          "reply t1 r2 550",
                                          "rcpt t1 r3 <carol@amry.mil> @amry.mil",
                                          "reply t1 r3 250",
                                          "delivery t1 r1 250",
                                          "delivery t1 r3 452",
                                          "end t1 data_accepted 452 delivered",
                                      });
  BOOST_TEST(run.events.front() == "cmd LHLO");
}

BOOST_AUTO_TEST_CASE(lmtp_pipelined_transactions_count_each_content_reply_off_exactly) {
  // Everything pipelined, every reply in one piece: the replies after each content are counted
  // off by that transaction's accepted recipients, so the next MAIL's reply is not taken for one.
  check(envelope({
            client("LHLO hub\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@navy.ml>\r\nDATA\r\n"
                   "x\r\n.\r\nMAIL FROM:<d@x>\r\nRCPT TO:<e@nvy.mil>\r\nDATA\r\ny\r\n.\r\nQUIT\r\n"),
            server("220 lmtp\r\n250 hub\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n550 5.2.0 b failed\r\n"
                   "250 c ok\r\n250 ok\r\n250 ok\r\n354 go\r\n451 4.3.0 e later\r\n221 bye\r\n"),
            finish(),
        }),
        {
            "lhlo hub",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.ml> @army.ml",
            "rcpt t1 r2 <c@navy.ml> @navy.ml",
            "mail t2 <d@x>",
            "rcpt t2 r3 <e@nvy.mil> @nvy.mil",
            "reply t1 r1 250",
            "reply t1 r2 250",
            "delivery t1 r1 550",
            "delivery t1 r2 250",
            "end t1 data_accepted 250 delivered",
            "reply t2 r3 250",
            "delivery t2 r3 451",
            "end t2 data_rejected 451",
        });
}

BOOST_AUTO_TEST_CASE(lmtp_bdat_last_is_answered_per_recipient_and_other_chunks_once) {
  check(envelope({
            server("220 lmtp\r\n"),
            client("LHLO hub\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@amry.mil>\r\n"),
            server("250 hub\r\n250 ok\r\n250 ok\r\n250 ok\r\n"),
            client("BDAT 5\r\nhello"),
            server("250 5 octets\r\n"),
            client("BDAT 3 LAST\r\nbye"),
            server("250 b delivered\r\n554 c refused\r\n"),
            client("RSET\r\n"),
            server("250 reset\r\n"),
            finish(),
        }),
        {
            "lhlo hub",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.ml> @army.ml",
            "rcpt t1 r2 <c@amry.mil> @amry.mil",
            "reply t1 r1 250",
            "reply t1 r2 250",
            "delivery t1 r1 250",
            "delivery t1 r2 554",
            "end t1 data_accepted 554 delivered",
        });
}

BOOST_AUTO_TEST_CASE(lmtp_every_recipient_refused_after_the_content_is_not_delivered) {
  check(envelope({
            client("LHLO hub\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@amry.mil>\r\nDATA\r\n"),
            server("220 lmtp\r\n250 hub\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            client("x\r\n.\r\n"),
            server("550 b over quota\r\n552 c too big\r\n"),
            finish(),
        }),
        {
            "lhlo hub",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.ml> @army.ml",
            "rcpt t1 r2 <c@amry.mil> @amry.mil",
            "reply t1 r1 250",
            "reply t1 r2 250",
            "delivery t1 r1 550",
            "delivery t1 r2 552",
            "end t1 data_rejected 552",
        });
}

BOOST_AUTO_TEST_CASE(smtp_is_answered_once_after_the_content) {
  // The same exchange in SMTP (EHLO): one reply ends the content, the next answers QUIT.
  check(envelope({
            client("EHLO hub\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@amry.mil>\r\nDATA\r\n"),
            server("220 smtp\r\n250 hub\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            client("x\r\n.\r\nQUIT\r\n"),
            server("250 queued\r\n221 bye\r\n"),
            finish(),
        }),
        {
            "ehlo hub",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.ml> @army.ml",
            "rcpt t1 r2 <c@amry.mil> @amry.mil",
            "reply t1 r1 250",
            "reply t1 r2 250",
            "end t1 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(lmtp_presumed_by_port_until_the_greeting_says_otherwise) {
  SmtpConfig lmtp_port;
  lmtp_port.presume_lmtp = true;
  // Picked up after the LHLO: the port's presumption holds.
  const std::vector<SmtpStep> midstream = {
      client("MAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@amry.mil>\r\nDATA\r\n"),
      server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
      client("x\r\n.\r\nQUIT\r\n"),
      server("250 b ok\r\n450 c later\r\n221 bye\r\n"),
      finish(),
  };
  check(envelope(midstream, lmtp_port), {
                                            "mail t1 <a@x>",
                                            "rcpt t1 r1 <b@army.ml> @army.ml",
                                            "rcpt t1 r2 <c@amry.mil> @amry.mil",
                                            "reply t1 r1 250",
                                            "reply t1 r2 250",
                                            "delivery t1 r1 250",
                                            "delivery t1 r2 450",
                                            "end t1 data_accepted 450 delivered",
                                        });
  // An EHLO on that port is SMTP: one reply after the content.
  check(envelope({
                     client("EHLO hub\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\nRCPT TO:<c@amry.mil>\r\nDATA\r\n"),
                     server("220 smtp\r\n250 hub\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                     client("x\r\n.\r\nQUIT\r\n"),
                     server("250 queued\r\n221 bye\r\n"),
                     finish(),
                 },
                 lmtp_port),
        {
            "ehlo hub",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.ml> @army.ml",
            "rcpt t1 r2 <c@amry.mil> @amry.mil",
            "reply t1 r1 250",
            "reply t1 r2 250",
            "end t1 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(lmtp_content_with_no_accepted_recipient_seen_takes_one_reply) {
  // A server gap swallowed the RCPT replies: which recipients were accepted is unknown, so one
  // reply ends the content (as in SMTP) and no DeliveryReply is invented.
  check(envelope({
            server("220 lmtp\r\n"),
            client("LHLO hub\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@army.ml>\r\n"),
            server("250 hub\r\n250 ok\r\n"),
            gap(Direction::kServerToClient, 12),
            client("DATA\r\n"),
            server("354 go\r\n"),
            client("x\r\n.\r\nQUIT\r\n"),
            server("250 b ok\r\n221 bye\r\n"),
            finish(),
        }),
        {
            "lhlo hub",
            "mail t1 <a@x>",
            "rcpt t1 r1 <b@army.ml> @army.ml",
            "anomaly server resync_after_gap",
            "end t1 data_accepted 250 delivered",
        });
}

BOOST_AUTO_TEST_CASE(lmtp_recipients_beyond_the_bound_are_counted_off_without_numbers) {
  const uint32_t extra = 2;
  const uint32_t total = misdirect::inspect::SmtpSession::kMaxLmtpRecipients + extra;
  std::vector<SmtpStep> script = {
      server("220 lmtp\r\n"),
      client("LHLO hub\r\nMAIL FROM:<a@x>\r\n"),
      server("250 hub\r\n250 ok\r\n"),
  };
  std::string deliveries;
  for (uint32_t i = 0; i < total; ++i) {
    script.push_back(client("RCPT TO:<u" + std::to_string(i) + "@army.ml>\r\n"));
    script.push_back(server("250 ok\r\n"));
    deliveries += i + 1 == total ? "550 last failed\r\n" : "250 ok\r\n";
  }
  script.push_back(client("DATA\r\n"));
  script.push_back(server("354 go\r\n"));
  script.push_back(client("x\r\n.\r\nQUIT\r\n"));
  script.push_back(server(deliveries + "221 bye\r\n"));
  script.push_back(finish());
  const auto run = feed_both_ways(script);
  std::size_t numbered = 0;
  std::vector<std::string> unnumbered;
  std::size_t untracked = 0;
  for (const std::string& event : run.events) {
    if (event.rfind("delivery t1 r0 ", 0) == 0) {
      unnumbered.push_back(event);
    } else if (event.rfind("delivery t1 r", 0) == 0) {
      ++numbered;
    } else if (event == "anomaly server lmtp_recipients_untracked") {
      ++untracked;
    }
  }
  BOOST_TEST(numbered == misdirect::inspect::SmtpSession::kMaxLmtpRecipients);
  BOOST_TEST(unnumbered == (Events{"delivery t1 r0 250", "delivery t1 r0 550"}), boost::test_tools::per_element());
  BOOST_TEST(untracked == extra);
  // The last per-recipient reply ended the content, and QUIT's reply answered QUIT.
  BOOST_TEST(run.events.back() == "end t1 data_accepted 550 delivered");
  BOOST_TEST(std::count(run.events.begin(), run.events.end(), "anomaly server reply_without_command") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
