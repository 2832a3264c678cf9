// Tests for Worker: frames in, alert/smtp/stats records out, through the real decoder, flow table,
// reassembly, SMTP machine and Hyperscan matcher.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/app/learned_address_book.h"
#include "dataplane/output/stats_tree.h"
#include "dataplane/worker.h"
#include "inspect/lookalike_role.h"
#include "inspect/matcher.h"
#include "tests/support/tcp_conversation.h"

using misdirect::dataplane::MatcherBinding;
using misdirect::dataplane::PacketView;
using misdirect::dataplane::RecordSink;
using misdirect::dataplane::RecordType;
using misdirect::dataplane::Worker;
using misdirect::dataplane::WorkerConfig;
using misdirect::test_support::Bytes;
using misdirect::test_support::TcpConversation;
using misdirect::test_support::view_of;

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

struct CapturedRecords final : RecordSink {
  bool on_record(RecordType type, std::string_view line) noexcept override {
    if (refuse) {
      return false;
    }
    (type == RecordType::kAlert ? alerts : smtp).emplace_back(line);
    return true;
  }
  std::vector<std::string> alerts;
  std::vector<std::string> smtp;
  bool refuse = false;
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// The worker's figures as the stats writer writes them.
std::string stats_of(const misdirect::dataplane::Worker& worker) {
  misdirect::dataplane::StatsNode tree;
  worker.collect_stats(tree);
  std::string out;
  misdirect::dataplane::write_stats_json(tree, out);
  return out;
}

// A worker with army.mil and mod.gov.uk protected, and the records it wrote.
struct Harness {
  explicit Harness(WorkerConfig config = small_config()) {
    misdirect::inspect::DomainLists lists;
    lists.protected_domains = {"army.mil", "mod.gov.uk"};
    auto built = misdirect::inspect::Matcher::build(lists, {});
    BOOST_REQUIRE_MESSAGE(built.matcher, built.error);
    matcher = std::move(built.matcher);
    scratch = matcher->make_scratch();
    worker = std::make_unique<Worker>(config, records);
    worker->bind_matcher(MatcherBinding{matcher.get(), &scratch, 7});
  }

  static WorkerConfig small_config() {
    WorkerConfig config;
    config.max_flows = 1024;
    config.max_smtp_sessions = 16;
    config.reassembly_memcap_bytes = 1 << 20;
    config.flow_id_salt = 0x5eed;  // the same flow ids in every run, so runs compare record for record
    return config;
  }

  void send(const std::vector<Bytes>& frames) {
    for (const Bytes& frame : frames) {
      now_ns += kSecond / 100;
      const PacketView view = view_of(frame, misdirect::dataplane::LinkType::kEthernet, now_ns);
      worker->process_burst(std::span<const PacketView>(&view, 1));
    }
  }
  // All frames in one burst (as replay reads them), 10 ms apart.
  void send_burst(const std::vector<Bytes>& frames) {
    std::vector<PacketView> views;
    for (const Bytes& frame : frames) {
      now_ns += kSecond / 100;
      views.push_back(view_of(frame, misdirect::dataplane::LinkType::kEthernet, now_ns));
    }
    worker->process_burst(std::span<const PacketView>(views.data(), views.size()));
  }
  void finish() { worker->finish(now_ns); }

  std::unique_ptr<const misdirect::inspect::Matcher> matcher;
  misdirect::inspect::MatcherScratch scratch;
  CapturedRecords records;
  std::unique_ptr<Worker> worker;
  uint64_t now_ns = 1'700'000'000 * kSecond;
};

// A complete session: two look-alike recipients (one accepted, one refused), one legitimate, and
// a body that mentions another look-alike (must not alert).
std::vector<Bytes> plain_session(TcpConversation& c) {
  return {
      c.syn(), c.syn_ack(), c.ack(),
      c.server("220 mx.example ESMTP\r\n"),
      c.client("EHLO client.example\r\n"),
      c.server("250-mx.example\r\n250 PIPELINING\r\n"),
      c.client("MAIL FROM:<alice@example.org>\r\n"),
      c.server("250 OK\r\n"),
      c.client("RCPT TO:<bob@army.ml>\r\n"),
      c.server("250 OK\r\n"),
      c.client("RCPT TO:<carol@hq.army.mil>\r\n"),
      c.server("250 OK\r\n"),
      c.client("RCPT TO:<dave@amry.mil>\r\n"),
      c.server("550 no such user\r\n"),
      c.client("DATA\r\n"),
      c.server("354 go ahead\r\n"),
      c.client("Subject: hi\r\n\r\nRCPT TO:<eve@army.ml>\r\n.\r\n"),
      c.server("250 queued\r\n"),
      c.client("QUIT\r\n"),
      c.server("221 bye\r\n"),
      c.client_fin(), c.server_fin(), c.ack(),
  };
}

// Each frame of `frames` as a mirror delivers it: in VXLAN `vni` over UDP from `outer_src` to
// `outer_dst` (IPv4 or IPv6).
std::vector<Bytes> in_vxlan(const std::vector<Bytes>& frames, uint32_t vni, const std::string& outer_src,
                            const std::string& outer_dst) {
  misdirect::test_support::IpSpec outer;
  outer.version = outer_src.find(':') != std::string::npos ? 6 : 4;
  outer.src = outer_src;
  outer.dst = outer_dst;
  std::vector<Bytes> out;
  for (const Bytes& frame : frames) {
    out.push_back(misdirect::test_support::build_frame(
        {}, outer, 17,
        misdirect::test_support::build_udp_datagram(outer, 50000, 4789, misdirect::test_support::vxlan(vni, frame))));
  }
  return out;
}

// The value of the first `"name":<number>` in `text`, or -1.
long long number_after(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\"" + name + "\":");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 3));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker)

BOOST_AUTO_TEST_CASE(session_gives_one_alert_per_lookalike_with_its_reply) {
  Harness harness;
  TcpConversation conversation("10.0.0.1", 40001, "10.0.0.2", 25);
  harness.send(plain_session(conversation));
  harness.finish();
  const auto& alerts = harness.records.alerts;
  BOOST_REQUIRE_EQUAL(alerts.size(), 2u);
  BOOST_TEST(contains(alerts[0], R"("recipient":"bob@army.ml")"));
  BOOST_TEST(contains(alerts[0], R"("kind":"tld-swap")"));
  BOOST_TEST(contains(alerts[0], R"("protected":"army.mil")"));
  BOOST_TEST(contains(alerts[0], R"("accepted":true)"));
  BOOST_TEST(contains(alerts[0], R"("generation":7)"));
  BOOST_TEST(contains(alerts[0], R"("src_ip":"10.0.0.1","src_port":40001,"dest_ip":"10.0.0.2","dest_port":25)"));
  BOOST_TEST(contains(alerts[0], R"("helo":"client.example")"));
  BOOST_TEST(contains(alerts[0], R"("mail_from":"alice@example.org")"));
  BOOST_TEST(contains(alerts[1], R"("recipient":"dave@amry.mil")"));
  BOOST_TEST(contains(alerts[1], R"("kind":"transposition")"));
  BOOST_TEST(contains(alerts[1], R"("accepted":false)"));
  BOOST_TEST(contains(alerts[1], R"("rcpt_to":["bob@army.ml","carol@hq.army.mil","dave@amry.mil"])"));

  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  const std::string& smtp = harness.records.smtp[0];
  BOOST_TEST(contains(smtp, R"("delivered":true)"));
  BOOST_TEST(contains(smtp, R"("rcpt_to":["bob@army.ml","carol@hq.army.mil","dave@amry.mil"])"));
  BOOST_TEST(contains(smtp, R"({"address":"carol@hq.army.mil","domain":"hq.army.mil","reply_code":250,"lookalike":null})"));
  BOOST_TEST(!contains(smtp, "eve@"));
}

BOOST_AUTO_TEST_CASE(reordered_and_duplicated_segments_give_the_same_records) {
  Harness in_order;
  TcpConversation first("10.0.0.1", 40001, "10.0.0.2", 25);
  in_order.send(plain_session(first));
  in_order.finish();

  Harness shuffled;
  TcpConversation second("10.0.0.1", 40001, "10.0.0.2", 25);
  std::vector<Bytes> frames = plain_session(second);
  // Keep the handshake first; swap neighbours and repeat some segments after it.
  std::mt19937 random(12345);
  std::vector<Bytes> mixed(frames.begin(), frames.begin() + 3);
  for (std::size_t i = 3; i < frames.size(); ++i) {
    mixed.push_back(frames[i]);
    if (random() % 3 == 0) {
      mixed.push_back(frames[i]);
    }
  }
  for (std::size_t i = 4; i + 1 < mixed.size(); i += 3) {
    std::swap(mixed[i], mixed[i + 1]);
  }
  shuffled.send(mixed);
  shuffled.finish();

  BOOST_REQUIRE_EQUAL(shuffled.records.alerts.size(), in_order.records.alerts.size());
  for (std::size_t i = 0; i < in_order.records.alerts.size(); ++i) {
    const auto recipient = [](const std::string& alert) {
      const auto start = alert.find(R"("recipient":)");
      return alert.substr(start, alert.find(',', start) - start);
    };
    BOOST_TEST(recipient(shuffled.records.alerts[i]) == recipient(in_order.records.alerts[i]));
  }
  BOOST_TEST(contains(shuffled.records.alerts[0], R"("accepted":true)"));
}

BOOST_AUTO_TEST_CASE(one_sided_capture_alerts_with_unknown_acceptance_at_flow_end) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40002, "10.0.0.2", 587);
  harness.send({c.client("EHLO x\r\n"), c.client("MAIL FROM:<a@b.example>\r\n"),
                c.client("RCPT TO:<bob@mod.gv.uk>\r\n")});
  BOOST_TEST(harness.records.alerts.empty());
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("accepted":null)"));
  BOOST_TEST(contains(harness.records.alerts[0], R"("protected":"mod.gov.uk")"));
}

BOOST_AUTO_TEST_CASE(smtp_on_an_unknown_port_is_found_by_its_behaviour) {
  Harness harness;
  TcpConversation c("192.0.2.10", 51000, "192.0.2.20", 8025);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 relay ready\r\n"),
                c.client("HELO me\r\n"), c.server("250 hi\r\n"), c.client("MAIL FROM:<>\r\n"),
                c.server("250 ok\r\n"), c.client("RCPT TO:<x@army.ml>\r\n"), c.server("250 ok\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("dest_port":8025)"));
}

BOOST_AUTO_TEST_CASE(a_flow_taken_up_at_the_servers_greeting_is_turned_round_by_detection) {
  // No handshake and the server speaks first: the flow table takes the greeting's sender for the
  // client. Detection learns from the EHLO that the other end is, and the flow's client is
  // swapped. The SMTP machine must then read the client's commands as client → server (read the
  // other way there is no RCPT and no alert), the server's replies as replies (the recipient is
  // accepted), and the record must name the real client. Both orders of the ends: the server as
  // endpoint A (the lower address) and as B.
  for (const bool server_is_a : {true, false}) {
    BOOST_TEST_CONTEXT("server is endpoint " << (server_is_a ? "A" : "B")) {
      Harness harness;
      const std::string client_ip = server_is_a ? "192.0.2.50" : "192.0.2.5";
      const std::string server_ip = server_is_a ? "192.0.2.5" : "192.0.2.50";
      TcpConversation c(client_ip, 51003, server_ip, 8025);
      harness.send({c.server("220 relay ready\r\n"), c.client("EHLO me\r\n"),
                    c.server("250 hi\r\n"), c.client("MAIL FROM:<a@example.org>\r\n"),
                    c.server("250 ok\r\n"), c.client("RCPT TO:<x@army.ml>\r\n"),
                    c.server("250 ok\r\n"), c.client("QUIT\r\n"), c.server("221 bye\r\n")});
      harness.finish();
      BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
      const std::string& alert = harness.records.alerts[0];
      BOOST_TEST(contains(alert, R"("src_ip":")" + client_ip + R"(","src_port":51003,"dest_ip":")" +
                                     server_ip + R"(","dest_port":8025)"));
      BOOST_TEST(contains(alert, R"("accepted":true)"));
      BOOST_TEST(contains(alert, R"("protected":"army.mil")"));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_alert_shows_the_unicode_form_beside_an_a_label) {
  Harness harness;
  TcpConversation c("192.0.2.10", 51002, "192.0.2.20", 25);
  // Cyrillic а: an A-label, then the same name as an SMTPUTF8 U-label, then fullwidth ＡＲＭＹ.ml
  // (UTS #46 maps it to army.ml: judged and reported as that, with nothing to decode).
  harness.send({c.client("RCPT TO:<x@xn--rmy-5cd.mil>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<y@\xD0\xB0rmy.ml>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<z@\xEF\xBC\xA1\xEF\xBC\xB2\xEF\xBC\xAD\xEF\xBC\xB9.ml>\r\n"),
                c.server("250 ok\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 3u);
  BOOST_TEST(contains(harness.records.alerts[0],
                      R"("unicode":{"domain":"аrmy.mil","variant":"аrmy.mil"})"));
  BOOST_TEST(contains(harness.records.alerts[1], R"("domain":"xn--rmy-5cd.ml")"));
  BOOST_TEST(contains(harness.records.alerts[1], R"("unicode":{"domain":"аrmy.ml"})"));
  BOOST_TEST(contains(harness.records.alerts[2], R"("domain":"army.ml")"));
  BOOST_TEST(contains(harness.records.alerts[2], R"("kind":"tld-swap")"));
  BOOST_TEST(!contains(harness.records.alerts[2], R"("unicode")"));
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("recipient_domains_idna":2)"));
  BOOST_TEST(contains(stats, R"("recipient_domains_a_label":1)"));
}

BOOST_AUTO_TEST_CASE(an_a_label_the_uts46_lookup_refuses_is_counted_not_judged) {
  // The A-labels of fullwidth ＡＲＭＹ.ml, of NFD mu\u0308nchen and of capital İ: a mail server's
  // lookup refuses them, so nothing is delivered there and nothing alerts; each is counted.
  Harness harness;
  TcpConversation c("192.0.2.10", 51003, "192.0.2.20", 25);
  harness.send({c.client("RCPT TO:<x@xn--ph7cyao3a.ml>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<y@xn--munchen-gie.de>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<z@xn--nfo-eua.mil>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<w@XN--RMY-5CD.ML>\r\n"), c.server("250 ok\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("domain":"xn--rmy-5cd.ml")"));
  BOOST_TEST(contains(harness.records.alerts[0], R"("unicode":{"domain":"аrmy.ml"})"));
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("recipient_domains_a_label":4)"));
  BOOST_TEST(contains(stats, R"("recipient_domains_invalid":3)"));
}

// An LMTP delivery from a hub to a mailbox store: two look-alikes accepted at RCPT, one of them
// refused in its own reply after the content, one refused at RCPT.
std::vector<Bytes> lmtp_session(TcpConversation& c, std::string_view greeting) {
  return {
      c.syn(), c.syn_ack(), c.ack(),
      c.server("220 store.example LMTP ready\r\n"),
      c.client(std::string(greeting) + " hub.example\r\n"),
      c.server("250-store.example\r\n250 PIPELINING\r\n"),
      c.client("MAIL FROM:<alice@example.org>\r\n"),
      c.server("250 OK\r\n"),
      c.client("RCPT TO:<bob@army.ml>\r\nRCPT TO:<carol@army.mil>\r\nRCPT TO:<dave@amry.mil>\r\n"
               "RCPT TO:<erin@armmy.mil>\r\n"),
      c.server("250 OK\r\n250 OK\r\n250 OK\r\n550 no such user\r\n"),
      c.client("DATA\r\n"),
      c.server("354 go ahead\r\n"),
      c.client("Subject: hi\r\n\r\nhello\r\n.\r\n"),
      c.server("250 2.0.0 <bob@army.ml> delivered\r\n250 2.0.0 <carol@army.mil> delivered\r\n"
               "552 5.2.2 <dave@amry.mil> mailbox full\r\n"),
      c.client("QUIT\r\n"),
      c.server("221 bye\r\n"),
      c.client_fin(), c.server_fin(), c.ack(),
  };
}

BOOST_AUTO_TEST_CASE(lmtp_alerts_carry_each_recipients_own_delivery_reply) {
  for (const uint16_t port : {uint16_t{24}, uint16_t{7024}}) {  // by port, and by behaviour (LHLO)
    Harness harness;
    TcpConversation c("10.0.0.1", 40001, "10.0.0.2", port);
    harness.send(lmtp_session(c, "LHLO"));
    harness.finish();
    const auto& alerts = harness.records.alerts;
    BOOST_REQUIRE_EQUAL(alerts.size(), 3u);
    // The refused RCPT alerts at its reply; accepted ones at their reply after the content.
    BOOST_TEST(contains(alerts[0], R"("recipient":"erin@armmy.mil")"));
    BOOST_TEST(contains(alerts[0], R"("accepted":false,"reply_code":550,"lmtp":true,"delivered":null,"delivery_code":null)"));
    BOOST_TEST(contains(alerts[1], R"("recipient":"bob@army.ml")"));
    BOOST_TEST(contains(alerts[1], R"("accepted":true,"reply_code":250,"lmtp":true,"delivered":true,"delivery_code":250)"));
    BOOST_TEST(contains(alerts[2], R"("recipient":"dave@amry.mil")"));
    BOOST_TEST(contains(alerts[2], R"("accepted":true,"reply_code":250,"lmtp":true,"delivered":false,"delivery_code":552)"));

    BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
    const std::string& smtp = harness.records.smtp[0];
    BOOST_TEST(contains(smtp, R"("delivered":true,"end":"data_accepted","lmtp":true)"));
    BOOST_TEST(contains(smtp, R"({"address":"carol@army.mil","domain":"army.mil","reply_code":250,"delivery_code":250,"lookalike":null})"));
    BOOST_TEST(contains(smtp, R"("address":"dave@amry.mil","domain":"amry.mil","reply_code":250,"delivery_code":552,"lookalike":{)"));
    BOOST_TEST(contains(smtp, R"("address":"erin@armmy.mil","domain":"armmy.mil","reply_code":550,"delivery_code":null,"lookalike":{)"));
    const std::string stats = stats_of(*harness.worker);
    BOOST_TEST(contains(stats, R"("lmtp_delivered":2)"));
    BOOST_TEST(contains(stats, R"("lmtp_not_delivered":1)"));
    BOOST_TEST(contains(stats, port == 24 ? R"("lmtp_flows_by_port":1)" : R"("smtp_flows_detected":1)"));
  }
}

BOOST_AUTO_TEST_CASE(smtp_on_the_lmtp_port_keeps_the_smtp_records) {
  // An EHLO on port 24 is SMTP: one reply ends the content, the extra replies match nothing,
  // and the records have no LMTP fields.
  Harness harness;
  TcpConversation c("10.0.0.1", 40001, "10.0.0.2", 24);
  harness.send(lmtp_session(c, "EHLO"));
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 3u);
  for (const std::string& alert : harness.records.alerts) {
    BOOST_TEST(!contains(alert, "lmtp"));
    BOOST_TEST(!contains(alert, "delivery_code"));
  }
  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  BOOST_TEST(!contains(harness.records.smtp[0], "lmtp"));
}

BOOST_AUTO_TEST_CASE(the_percent_hack_next_hop_is_judged_when_the_address_domain_is_not) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40001, "10.0.0.2", 25);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 relay.example ESMTP\r\n"),
                c.client("EHLO client.example\r\n"), c.server("250 relay.example\r\n"),
                c.client("MAIL FROM:<alice@example.org>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<user%army.ml@relay.example>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<ops%army.mil@relay.example>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<\"q%Amry.Mil\"@relay.example>\r\n"), c.server("550 relaying denied\r\n"),
                c.client("RCPT TO:<bob%army.ml@army.ml>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<lit%armmy.mil@[192.0.2.1]>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<USER%army.ml@relay.example>\r\n"), c.server("250 OK\r\n"),
                c.client("QUIT\r\n"), c.server("221 bye\r\n"),
                c.client_fin(), c.server_fin(), c.ack()});
  harness.finish();
  const auto& alerts = harness.records.alerts;
  BOOST_REQUIRE_EQUAL(alerts.size(), 4u);
  BOOST_TEST(contains(alerts[0], R"("recipient":"user%army.ml@relay.example","domain":"army.ml","protected":"army.mil","kind":"tld-swap","variant":"army.ml","judged":{"domain":"army.ml","reason":"percent-hack","relay":"relay.example"},"accepted":true)"));
  BOOST_TEST(contains(alerts[1], R"("recipient":"\"q%Amry.Mil\"@relay.example","domain":"amry.mil")"));
  BOOST_TEST(contains(alerts[1], R"("judged":{"domain":"amry.mil","reason":"percent-hack","relay":"relay.example"},"accepted":false)"));
  // The address's own domain is the look-alike: judged as always, no `judged`.
  BOOST_TEST(contains(alerts[2], R"("recipient":"bob%army.ml@army.ml","domain":"army.ml")"));
  BOOST_TEST(!contains(alerts[2], "judged"));
  // An address literal is no domain; the next hop still is.
  BOOST_TEST(contains(alerts[3], R"("recipient":"lit%armmy.mil@[192.0.2.1]","domain":"armmy.mil")"));
  BOOST_TEST(contains(alerts[3], R"("relay":"[192.0.2.1]")"));

  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  const std::string& smtp = harness.records.smtp[0];
  BOOST_TEST(contains(smtp, R"({"address":"user%army.ml@relay.example","domain":"army.ml","judged":{"domain":"army.ml","reason":"percent-hack","relay":"relay.example"},"reply_code":250,"lookalike":{)"));
  BOOST_TEST(contains(smtp, R"({"address":"ops%army.mil@relay.example","domain":"relay.example","reply_code":250,"lookalike":null})"));
  const std::string stats = stats_of(*harness.worker);
  // ops%army.mil, "q%Amry.Mil", user%, lit%, USER% (bob%'s own domain alerted first).
  BOOST_TEST(contains(stats, R"("percent_hack_recipients":5)"));
  BOOST_TEST(contains(stats, R"("percent_hack_lookalikes":4)"));
  BOOST_TEST(contains(stats, R"("repeat_alerts_suppressed":1)"));
}

BOOST_AUTO_TEST_CASE(implicit_tls_port_is_counted_not_parsed) {
  Harness harness;
  TcpConversation c("192.0.2.10", 51001, "192.0.2.20", 465);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.client("RCPT TO:<x@army.ml>\r\n")});
  harness.finish();
  BOOST_TEST(harness.records.alerts.empty());
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("implicit_tls_flows":1)"));
}

BOOST_AUTO_TEST_CASE(vlan_tags_reach_the_alert) {
  Harness harness;
  TcpConversation c("2001:db8::1", 40003, "2001:db8::2", 25);
  c.link.vlans = {{0x88a8, 10, 0}, {0x8100, 20, 0}};
  harness.send({c.client("RCPT TO:<x@army.ml>\r\n"), c.server("250 ok\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("vlan":[10,20])"));
  BOOST_TEST(contains(harness.records.alerts[0], R"("src_ip":"2001:db8::1")"));
}

BOOST_AUTO_TEST_CASE(refused_records_are_counted_never_lost_silently) {
  Harness harness;
  harness.records.refuse = true;
  TcpConversation c("10.0.0.1", 40004, "10.0.0.2", 25);
  harness.send(plain_session(c));
  harness.finish();
  BOOST_TEST(harness.worker->totals().records_dropped == 3u);  // two alerts and one smtp record
  BOOST_TEST(harness.worker->totals().alerts == 0u);
}

BOOST_AUTO_TEST_CASE(a_new_matcher_judges_recipients_after_it_is_bound) {
  Harness harness;
  misdirect::inspect::DomainLists lists;
  lists.protected_domains = {"navy.mil"};
  auto built = misdirect::inspect::Matcher::build(lists, {});
  BOOST_REQUIRE(built.matcher);
  auto scratch = built.matcher->make_scratch();
  TcpConversation c("10.0.0.1", 40005, "10.0.0.2", 25);
  harness.send({c.client("RCPT TO:<a@navy.ml>\r\n"), c.server("250 ok\r\n")});
  harness.worker->bind_matcher(MatcherBinding{built.matcher.get(), &scratch, 8});
  harness.send({c.client("RCPT TO:<b@navy.ml>\r\n"), c.server("250 ok\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("recipient":"b@navy.ml")"));
  BOOST_TEST(contains(harness.records.alerts[0], R"("generation":8)"));
}

BOOST_AUTO_TEST_CASE(stats_show_the_verdict_cache_of_the_bound_matcher) {
  Harness harness;
  TcpConversation first("10.0.0.1", 40011, "10.0.0.2", 25);
  TcpConversation second("10.0.0.1", 40012, "10.0.0.2", 25);
  // The sender's example.org (senders are judged too), army.ml, hq.army.mil, amry.mil: four
  // misses; the same four domains again: four hits.
  harness.send(plain_session(first));
  harness.send(plain_session(second));
  harness.finish();
  BOOST_TEST(harness.records.alerts.size() == 4u);
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("verdict_cache":{"hits":4,"misses":4,"bypassed":0})"));
  BOOST_TEST(harness.worker->matcher_generation() == 7u);
}

BOOST_AUTO_TEST_CASE(a_recipient_repeated_in_one_flow_alerts_once) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40006, "10.0.0.2", 25);
  harness.send({c.client("MAIL FROM:<a@x.example>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<bob@army.ml>\r\n"), c.server("250 ok\r\n"),
                c.client("RSET\r\n"), c.server("250 ok\r\n"),
                c.client("MAIL FROM:<a@x.example>\r\n"), c.server("250 ok\r\n"),
                c.client("RCPT TO:<BOB@army.ml>\r\n"), c.server("250 ok\r\n")});
  harness.finish();
  BOOST_TEST(harness.records.alerts.size() == 1u);
  BOOST_TEST(harness.records.smtp.size() == 2u);  // both transactions are still logged
}

BOOST_AUTO_TEST_CASE(a_full_flow_table_evicts_and_flushes_the_oldest_flow) {
  WorkerConfig config = Harness::small_config();
  config.max_flows = 16;
  Harness harness(config);
  TcpConversation first("10.0.1.1", 40000, "10.0.0.2", 25);
  harness.send({first.client("RCPT TO:<x@army.ml>\r\n")});
  for (uint16_t port = 1; port <= 40; ++port) {
    TcpConversation other("10.0.2.1", static_cast<uint16_t>(50000 + port), "10.0.0.3", 80);
    harness.send({other.syn()});
  }
  // The first flow was evicted: its pending alert was written then, before the end of input.
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(!contains(stats, R"("flows_evicted":0)"));
}

BOOST_AUTO_TEST_CASE(a_session_closed_both_ways_frees_its_slot_before_the_closed_timeout) {
  // Two session slots and five sessions one after another, all within one closed timeout: each
  // session must end (and write its records) when both directions have, not when the flow
  // record expires, or the third would find no slot.
  WorkerConfig config = Harness::small_config();
  config.max_smtp_sessions = 2;
  Harness harness(config);
  for (uint16_t i = 0; i < 5; ++i) {
    TcpConversation c("10.0.3.1", static_cast<uint16_t>(41000 + i), "10.0.0.2", 25);
    harness.send(plain_session(c));
    BOOST_TEST(harness.records.smtp.size() == i + 1u);  // written at the close, not at the end
  }
  BOOST_TEST(harness.records.alerts.size() == 10u);
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("smtp_sessions_unavailable":0)"));
  BOOST_TEST(contains(stats, R"("app_layer":{"flow":{"smtp":5})"));
  harness.finish();
  BOOST_TEST(harness.records.smtp.size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_session_half_closed_still_reads_the_replies_that_trail_the_fin) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40013, "10.0.0.2", 25);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"),
                c.client("MAIL FROM:<a@x.example>\r\n"), c.client("RCPT TO:<bob@army.ml>\r\n"),
                c.client_fin()});
  BOOST_TEST(harness.records.smtp.empty());
  harness.send({c.server("250 ok\r\n550 no\r\n"), c.server_fin(), c.ack()});
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("accepted":false)"));
  BOOST_TEST(harness.records.smtp.size() == 1u);
}

BOOST_AUTO_TEST_CASE(bursts_give_the_same_records_and_counters_as_single_packets) {
  // Five flows interleaved frame by frame — two SMTP sessions by port, one found by behaviour,
  // one HTTP flow that stops being inspected, one evicted (the table holds 4) — sent one frame
  // at a time, in bursts of 7, and in bursts larger than the worker's stage: the staged burst
  // pipeline must see the same times and order as one packet at a time.
  const auto frames = [] {
    TcpConversation a("10.0.0.1", 40001, "10.0.0.2", 25);
    TcpConversation b("10.0.0.3", 40002, "10.0.0.2", 587);
    TcpConversation c("10.0.0.4", 40003, "10.0.0.5", 2600);
    TcpConversation d("10.0.0.6", 40004, "10.0.0.7", 80);
    TcpConversation e("10.0.0.8", 40005, "10.0.0.9", 25);
    std::vector<std::vector<Bytes>> flows = {
        plain_session(a), plain_session(b), plain_session(c),
        {d.syn(), d.syn_ack(), d.ack(), d.client("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
         d.server("HTTP/1.1 200 OK\r\n\r\n"), d.client("more")},
        {e.client("RCPT TO:<z@army.ml>\r\n")},
    };
    std::vector<Bytes> mixed;
    for (std::size_t i = 0; mixed.size() < 200; ++i) {
      bool any = false;
      for (const auto& flow : flows) {
        if (i < flow.size()) {
          mixed.push_back(flow[i]);
          any = true;
        }
      }
      if (!any) {
        break;
      }
    }
    return mixed;
  }();
  WorkerConfig config = Harness::small_config();
  config.max_flows = 4;
  std::vector<std::string> outputs;
  for (const std::size_t burst : {std::size_t{1}, std::size_t{7}, std::size_t{100}}) {
    Harness harness(config);
    std::vector<PacketView> views;
    for (const Bytes& frame : frames) {
      harness.now_ns += kSecond / 100;
      views.push_back(view_of(frame, misdirect::dataplane::LinkType::kEthernet, harness.now_ns));
    }
    for (std::size_t i = 0; i < views.size(); i += burst) {
      harness.worker->process_burst(
          std::span<const PacketView>(views.data() + i, std::min(burst, views.size() - i)));
    }
    harness.finish();
    std::string output;
    for (const std::string& alert : harness.records.alerts) {
      output += alert;
    }
    for (const std::string& smtp : harness.records.smtp) {
      output += smtp;
    }
    output += stats_of(*harness.worker);
    BOOST_TEST(harness.records.alerts.size() >= 5u);
    BOOST_TEST(contains(output, R"("flows_evicted":)"));
    BOOST_TEST(!contains(output, R"("flows_evicted":0,)"));
    outputs.push_back(output);
  }
  BOOST_TEST(outputs[1] == outputs[0]);
  BOOST_TEST(outputs[2] == outputs[0]);
}

// A TLS 1.2 ClientHello record carrying `server_name` (SNI) and nothing else of note.
std::string client_hello(std::string_view server_name) {
  const auto be16 = [](std::string& out, std::size_t value) {
    out += static_cast<char>(value >> 8);
    out += static_cast<char>(value & 0xff);
  };
  std::string sni;
  be16(sni, server_name.size() + 3);
  sni += '\0';
  be16(sni, server_name.size());
  sni += server_name;
  std::string extensions;
  be16(extensions, 0);  // server_name
  be16(extensions, sni.size());
  extensions += sni;
  std::string body = "\x03\x03" + std::string(32, '\x11') + std::string(1, '\0');
  be16(body, 2);
  body += "\xc0\x2f";
  body += std::string("\x01\x00", 2);
  be16(body, extensions.size());
  body += extensions;
  std::string handshake = "\x01";
  handshake += '\0';
  be16(handshake, body.size());
  handshake += body;
  std::string record = "\x16\x03\x01";
  be16(record, handshake.size());
  return record + handshake;
}

std::size_t count_containing(const std::vector<std::string>& lines, std::string_view part) {
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [&](const std::string& line) { return contains(line, part); }));
}

BOOST_AUTO_TEST_CASE(a_sender_at_a_lookalike_alerts_once_per_flow_and_lookalike) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40101, "10.0.0.2", 25);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"), c.client("EHLO x\r\n"),
                c.server("250 mx\r\n"), c.client("MAIL FROM:<ceo@army.ml>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<staff@example.net>\r\n"), c.server("250 OK\r\n"), c.client("RSET\r\n"),
                c.server("250 OK\r\n"),
                // The same look-alike again (another mailbox, a name under it): recorded, not alerted.
                c.client("MAIL FROM:<cfo@hq.army.ml>\r\n"), c.server("250 OK\r\n"),
                c.client("MAIL FROM:<boss@amry.mil>\r\n"), c.server("250 OK\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 2u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("role":"sender","sender":"ceo@army.ml","domain":"army.ml")"));
  BOOST_TEST(contains(harness.records.alerts[0], R"("signature_id":9900101,)"));
  BOOST_TEST(contains(harness.records.alerts[1], R"("role":"sender","sender":"boss@amry.mil")"));
  BOOST_TEST(contains(harness.records.alerts[1], R"("kind":"transposition")"));
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("sender_alerts":2,)"));
  BOOST_TEST(contains(stats, R"("lookalike_seen_again":1,)"));
}

BOOST_AUTO_TEST_CASE(a_recipient_alert_keeps_its_rule_and_later_roles_only_record) {
  // Sender and recipient at the same look-alike: the recipient alerts (once per recipient), the
  // sender after it is recorded only.
  Harness harness;
  TcpConversation c("10.0.0.1", 40102, "10.0.0.2", 25);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"), c.client("EHLO x\r\n"),
                c.server("250 mx\r\n"), c.client("MAIL FROM:<a@example.org>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<b@army.ml>\r\n"), c.server("250 OK\r\n"), c.client("RCPT TO:<c@army.ml>\r\n"),
                c.server("250 OK\r\n"), c.client("RSET\r\n"), c.server("250 OK\r\n"),
                c.client("MAIL FROM:<d@army.ml>\r\n"), c.server("250 OK\r\n")});
  harness.finish();
  BOOST_TEST(harness.records.alerts.size() == 2u);
  BOOST_TEST(count_containing(harness.records.alerts, R"("role":"recipient")") == 2u);
  BOOST_TEST(count_containing(harness.records.alerts, R"("role":"sender")") == 0u);
}

BOOST_AUTO_TEST_CASE(a_lookalike_server_name_on_port_465_alerts) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40103, "10.0.0.2", 465);
  const std::string hello = client_hello("mx1.army.ml");
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.client(hello.substr(0, 20)), c.client(hello.substr(20))});
  TcpConversation other("10.0.0.1", 40104, "10.0.0.2", 465);
  harness.send({other.syn(), other.syn_ack(), other.ack(), other.client(client_hello("mx.army.mil"))});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  const std::string& alert = harness.records.alerts[0];
  BOOST_TEST(contains(alert, R"("tls":{"sni":"mx1.army.ml","version":"TLS 1.2"})"));
  BOOST_TEST(contains(alert, R"("role":"tls-sni","domain":"mx1.army.ml","protected":"army.mil")"));
  BOOST_TEST(contains(alert, R"("variant":"army.ml")"));
  // The encrypted session that met a look-alike gets its record, with the server name.
  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  BOOST_TEST(contains(harness.records.smtp[0], R"("tls":{"sni":"mx1.army.ml")"));
  BOOST_TEST(contains(harness.records.smtp[0], R"("lookalikes":[{"variant":"army.ml","roles":["tls-sni"],"alerted":"tls-sni"}])"));
}

BOOST_AUTO_TEST_CASE(the_server_name_after_starttls_is_read) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40105, "10.0.0.2", 25);
  const std::string hello = client_hello("smtp.mod.gv.uk");
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"), c.client("EHLO x\r\n"),
                c.server("250 mx\r\n"), c.client("STARTTLS\r\n"), c.server("220 go ahead\r\n"),
                c.client(hello.substr(0, 2)), c.client(hello.substr(2, 5)), c.client(hello.substr(7))});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("role":"tls-sni","domain":"smtp.mod.gv.uk")"));
}

BOOST_AUTO_TEST_CASE(roles_turned_off_do_not_alert) {
  WorkerConfig config = Harness::small_config();
  std::string error;
  const auto roles = misdirect::inspect::parse_roles("-recipient,-sender,-tls-sni", error);
  BOOST_REQUIRE(roles.has_value());
  config.roles = *roles;
  Harness harness(config);
  TcpConversation c("10.0.0.1", 40106, "10.0.0.2", 25);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"), c.client("EHLO x\r\n"),
                c.server("250 mx\r\n"), c.client("MAIL FROM:<ceo@army.ml>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<b@army.ml>\r\n"), c.server("250 OK\r\n"), c.client("STARTTLS\r\n"),
                c.server("220 go ahead\r\n"), c.client(client_hello("mx1.army.ml"))});
  harness.finish();
  BOOST_TEST(harness.records.alerts.empty());
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("role_off":3,)"));
}

// ---- header-from and reply-to ----------------------------------------------------------------

// A session up to DATA's 354 (clean MAIL FROM and RCPT TO unless given), then `content` in the
// given pieces, then the end of the content and QUIT. `before_end`: the alerts written before the
// content's terminating line was sent.
struct HeaderSession {
  std::vector<Bytes> opening(TcpConversation& c, std::string_view rcpt = "staff@example.net") {
    return {c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"), c.client("EHLO client.example\r\n"),
            c.server("250 mx\r\n"), c.client("MAIL FROM:<alice@example.org>\r\n"), c.server("250 OK\r\n"),
            c.client("RCPT TO:<" + std::string(rcpt) + ">\r\n"), c.server("250 OK\r\n"), c.client("DATA\r\n"),
            c.server("354 go ahead\r\n")};
  }
};

// Drops the parts of a record that depend on how many frames carried it (the packet time).
std::string without_timestamp(std::string line) {
  const std::size_t at = line.find(R"("timestamp":")");
  if (at != std::string::npos) {
    line.erase(at, line.find('"', at + 13) + 2 - at);
  }
  return line;
}

// The header block of the inbound-impersonation case: MAIL FROM is clean, the From: list (folded,
// a quoted comma, an RFC 2047 display name) holds a look-alike, Reply-To: another; the body holds
// look-alike header lines that must not count.
constexpr std::string_view kImpersonatingHeaders =
    "Received: from relay.example by mx.example; Tue, 1 Dec 2026 10:00:00 +0000\r\n"
    "From: \"Ops, Team\" <ops@example.org>,\r\n"
    " =?UTF-8?Q?Army_Support=2C_HQ?= <support@army.ml>\r\n"
    "Reply-To: =?UTF-8?B?QmlsbGluZw==?= <billing@amry.mil>\r\n"
    "Subject: Invoice 4711\r\n"
    "Message-ID: <4711@relay.example>\r\n"
    "\r\n";
constexpr std::string_view kImpersonatingBody = "From: body@armmy.mil\r\nReply-To: x@army.ml\r\n.\r\n";

std::vector<std::string> impersonation_alerts(std::size_t piece_bytes, std::size_t& alerts_before_body) {
  Harness harness;
  TcpConversation c("10.0.0.1", 40201, "10.0.0.2", 25);
  harness.send(HeaderSession{}.opening(c));
  for (std::size_t at = 0; at < kImpersonatingHeaders.size(); at += piece_bytes) {
    harness.send({c.client(kImpersonatingHeaders.substr(at, piece_bytes))});
  }
  alerts_before_body = harness.records.alerts.size();
  harness.send({c.client(kImpersonatingBody), c.server("250 queued\r\n"), c.client("QUIT\r\n"),
                c.server("221 bye\r\n"), c.client_fin(), c.server_fin(), c.ack()});
  harness.finish();
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("header_alerts":2})"));
  BOOST_TEST(contains(stats, R"("lookalike_header_addresses":2,)"));
  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  // The transaction's record lists what its headers named.
  BOOST_TEST(contains(harness.records.smtp[0],
                      R"("lookalikes":[{"variant":"army.ml","roles":["header-from"],"alerted":"header-from"},)"
                      R"({"variant":"amry.mil","roles":["reply-to"],"alerted":"reply-to"}])"));
  std::vector<std::string> alerts;
  for (const std::string& line : harness.records.alerts) {
    alerts.push_back(without_timestamp(line));
  }
  return alerts;
}

BOOST_AUTO_TEST_CASE(a_lookalike_in_from_and_reply_to_alerts_at_the_end_of_the_header_block) {
  std::size_t before_body = 0;
  const std::vector<std::string> alerts = impersonation_alerts(kImpersonatingHeaders.size(), before_body);
  BOOST_TEST(before_body == 2u);  // written at the blank line, before the message was delivered
  BOOST_REQUIRE_EQUAL(alerts.size(), 2u);
  BOOST_TEST(contains(alerts[0], R"("tx_id":0,)"));
  BOOST_TEST(contains(alerts[0], R"("signature_id":9900201,)"));
  BOOST_TEST(contains(alerts[0], R"x("signature":"MISDIRECT message From: header at a look-alike domain (tld-swap)")x"));
  BOOST_TEST(contains(alerts[0], R"("smtp":{"helo":"client.example","mail_from":"alice@example.org"})"));
  BOOST_TEST(contains(alerts[0], R"("email":{"from":"\"Ops, Team\" <ops@example.org>, Army Support, HQ <support@army.ml>",)"
                                 R"("subject":"Invoice 4711","message_id":"<4711@relay.example>"})"));
  BOOST_TEST(contains(alerts[0], R"("role":"header-from","address":"support@army.ml","domain":"army.ml",)"
                                 R"("protected":"army.mil","kind":"tld-swap","variant":"army.ml")"));
  BOOST_TEST(contains(alerts[1], R"("signature_id":9900305,)"));  // reply-to (3), transposition (4)
  BOOST_TEST(contains(alerts[1], R"("role":"reply-to","address":"billing@amry.mil","domain":"amry.mil",)"));
}

BOOST_AUTO_TEST_CASE(header_roles_give_the_same_alerts_in_any_segmentation) {
  std::size_t before_body = 0;
  const std::vector<std::string> whole = impersonation_alerts(kImpersonatingHeaders.size(), before_body);
  for (const std::size_t piece : {1u, 2u, 3u, 7u, 64u}) {
    BOOST_TEST_CONTEXT("pieces of " << piece << " bytes") {
      std::size_t before = 0;
      BOOST_TEST(impersonation_alerts(piece, before) == whole, boost::test_tools::per_element());
      BOOST_TEST(before == 2u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_lookalike_the_flow_alerted_on_is_recorded_not_alerted_again_in_headers) {
  // The recipient alerts; From at the same look-alike (and a name under it), and Reply-To at it,
  // are recorded in the transaction's record; a second look-alike in From alerts once.
  Harness harness;
  TcpConversation c("10.0.0.1", 40202, "10.0.0.2", 25);
  harness.send(HeaderSession{}.opening(c, "bob@army.ml"));
  harness.send({c.client("From: a@army.ml, b@hq.army.ml, c@amry.mil, d@mx.amry.mil\r\nReply-To: r@army.ml\r\n"
                         "\r\nbody\r\n.\r\n"),
                c.server("250 queued\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 2u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("role":"recipient")"));
  BOOST_TEST(contains(harness.records.alerts[1], R"("role":"header-from","address":"c@amry.mil")"));
  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  BOOST_TEST(contains(harness.records.smtp[0],
                      R"("lookalikes":[{"variant":"army.ml","roles":["recipient","header-from","reply-to"],"alerted":"recipient"},)"
                      R"({"variant":"amry.mil","roles":["header-from"],"alerted":"header-from"}])"));
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("lookalike_header_addresses":5,)"));
  // a@army.ml, b@hq.army.ml, d@mx.amry.mil, r@army.ml: each a look-alike the flow already alerted on.
  BOOST_TEST(contains(stats, R"("lookalike_seen_again":4,)"));
}

BOOST_AUTO_TEST_CASE(a_lookalike_only_in_a_display_name_does_not_alert) {
  // The address is what counts: a look-alike written in the display name (quoted, or encoded with
  // brackets of its own, or with a lone quote) is not the From address.
  Harness harness;
  TcpConversation c("10.0.0.1", 40203, "10.0.0.2", 25);
  harness.send(HeaderSession{}.opening(c));
  harness.send({c.client("From: \"ceo@army.ml\" <ceo@example.org>,\r\n"
                         " =?UTF-8?Q?CEO_=3Cceo=40army.ml=3E?= <ceo2@example.org>\r\n"
                         "Reply-To: =?UTF-8?Q?5=22_screen?= <sales@amry.mil>\r\n\r\n.\r\n"),
                c.server("250 queued\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("role":"reply-to","address":"sales@amry.mil")"));
}

BOOST_AUTO_TEST_CASE(header_roles_read_bdat_chunks_and_a_block_the_content_ends) {
  // BDAT: the From line split across two chunks; the content ends inside the header block (no
  // blank line): the block ends with the content and is judged then.
  Harness harness;
  TcpConversation c("10.0.0.1", 40204, "10.0.0.2", 25);
  const std::string chunk1 = "Subject: s\r\nFrom: Sup";
  const std::string chunk2 = "port <support@army.ml>\r\nReply-To: billing@amry.mil\r\n";
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx ESMTP\r\n"), c.client("EHLO x\r\n"),
                c.server("250 mx\r\n"), c.client("MAIL FROM:<alice@example.org>\r\n"), c.server("250 OK\r\n"),
                c.client("RCPT TO:<staff@example.net>\r\n"), c.server("250 OK\r\n"),
                c.client("BDAT " + std::to_string(chunk1.size()) + "\r\n" + chunk1), c.server("250 OK\r\n")});
  BOOST_TEST(harness.records.alerts.empty());
  harness.send({c.client("BDAT " + std::to_string(chunk2.size()) + " LAST\r\n" + chunk2)});
  // The Reply-To line is complete, but a header block without its blank line ends with the
  // content, which the transaction's end (the reply to BDAT LAST) marks.
  BOOST_TEST(harness.records.alerts.empty());
  harness.send({c.server("250 queued\r\n")});
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 2u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("role":"header-from","address":"support@army.ml")"));
  BOOST_TEST(contains(harness.records.alerts[1], R"("role":"reply-to","address":"billing@amry.mil")"));
  harness.finish();
  BOOST_TEST(harness.records.alerts.size() == 2u);
}

BOOST_AUTO_TEST_CASE(header_roles_turned_off_only_count) {
  WorkerConfig config = Harness::small_config();
  std::string error;
  const auto roles = misdirect::inspect::parse_roles("-header-from", error);
  BOOST_REQUIRE(roles.has_value());
  config.roles = *roles;
  Harness harness(config);
  TcpConversation c("10.0.0.1", 40205, "10.0.0.2", 25);
  harness.send(HeaderSession{}.opening(c));
  harness.send({c.client("From: support@army.ml\r\nReply-To: billing@amry.mil\r\n\r\n.\r\n"),
                c.server("250 queued\r\n")});
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("role":"reply-to")"));
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("role_off":1,)"));
}

BOOST_AUTO_TEST_CASE(role_lists) {
  std::string error;
  BOOST_TEST(misdirect::inspect::roles_text(*misdirect::inspect::parse_roles("all", error)) ==
             "recipient,sender,header-from,reply-to,dns-query,dns-learned,tls-sni");
  BOOST_TEST(misdirect::inspect::roles_text(*misdirect::inspect::parse_roles("dns-query,recipient", error)) ==
             "recipient,dns-query");
  BOOST_TEST(misdirect::inspect::roles_text(*misdirect::inspect::parse_roles("-tls-sni", error)) ==
             "recipient,sender,header-from,reply-to,dns-query,dns-learned");
  BOOST_TEST(!misdirect::inspect::parse_roles("recipient,sni", error).has_value());
  BOOST_TEST(error == "has an unknown role 'sni' (roles: recipient, sender, header-from, reply-to, dns-query, dns-learned, tls-sni)");
  BOOST_TEST(!misdirect::inspect::parse_roles("", error).has_value());
  BOOST_TEST(!misdirect::inspect::parse_roles("recipient,", error).has_value());
}

namespace {

// `flooders` flows to port 25, each sending `segments` one-byte segments with a one-byte hole in
// front of each (never filled): every one takes a reassembly piece. Then a victim session whose
// RCPT arrives in two segments, the second first. Returns the victim's alerts.
std::vector<std::string> victim_alerts_beside(uint32_t flooders, uint32_t segments) {
  WorkerConfig config = Harness::small_config();
  config.max_smtp_sessions = 128;
  config.reassembly_memcap_bytes = 256 * 1024;  // 256 pieces: the flood alone can fill it
  config.gap_wait_ns = 3600 * kSecond;           // the flood's holes stay open all test long
  Harness harness(config);
  for (uint32_t f = 0; f < flooders; ++f) {
    TcpConversation flood("10.9.0.1", static_cast<uint16_t>(20000 + f), "10.0.0.2", 25);
    std::vector<Bytes> frames = {flood.syn(), flood.syn_ack(), flood.ack()};
    for (uint32_t i = 0; i < 2 * segments; ++i) {
      Bytes frame = flood.client("x");
      if (i % 2 == 1) {
        frames.push_back(std::move(frame));
      }
    }
    harness.send(frames);
  }
  TcpConversation c("10.0.0.1", 40009, "10.0.0.2", 25);
  harness.send({c.syn(), c.syn_ack(), c.ack(), c.server("220 mx.example ESMTP\r\n"),
                c.client("EHLO client.example\r\n"), c.server("250 mx.example\r\n"),
                c.client("MAIL FROM:<alice@example.org>\r\n"), c.server("250 OK\r\n")});
  Bytes first_half = c.client("RCPT TO:<bob@");
  Bytes second_half = c.client("army.ml>\r\n");
  harness.send({second_half, first_half, c.server("250 OK\r\n"), c.client("QUIT\r\n"),
                c.server("221 bye\r\n"), c.client_fin(), c.server_fin(), c.ack()});
  harness.finish();
  std::vector<std::string> victim;
  for (const std::string& alert : harness.records.alerts) {
    if (contains(alert, R"("src_port":40009)")) {
      victim.push_back(alert);
    }
  }
  return victim;
}

}  // namespace

BOOST_AUTO_TEST_CASE(out_of_order_rcpt_alerts_beside_one_flooding_flow) {
  const std::vector<std::string> alerts = victim_alerts_beside(1, 400);
  BOOST_REQUIRE_EQUAL(alerts.size(), 1u);
  BOOST_TEST(contains(alerts[0], R"("recipient":"bob@army.ml")"));
  BOOST_TEST(contains(alerts[0], R"("accepted":true)"));
}

BOOST_AUTO_TEST_CASE(out_of_order_rcpt_alerts_beside_sixty_flooding_flows) {
  const std::vector<std::string> alerts = victim_alerts_beside(60, 10);
  BOOST_REQUIRE_EQUAL(alerts.size(), 1u);
  BOOST_TEST(contains(alerts[0], R"("recipient":"bob@army.ml")"));
  BOOST_TEST(contains(alerts[0], R"("accepted":true)"));
}

namespace {

// Two sessions on the same 5-tuple: the first ends with `ending` (FIN both ways, RST, or nothing)
// and the second starts with a new SYN and ISN `gap_ns` later. Returns each alert's recipient and
// flow id.
std::vector<std::string> recipients_of_two_sessions(const std::string& ending, uint64_t gap_ns) {
  Harness harness;
  TcpConversation first("10.0.0.1", 40010, "10.0.0.2", 25, 1000, 5000);
  std::vector<Bytes> frames = {first.syn(), first.syn_ack(), first.ack(), first.server("220 mx\r\n"),
                               first.client("HELO a\r\n"), first.server("250 hi\r\n"),
                               first.client("MAIL FROM:<a@x.example>\r\n"), first.server("250 ok\r\n"),
                               first.client("RCPT TO:<one@army.ml>\r\n"), first.server("250 ok\r\n")};
  if (ending == "fin") {
    frames.push_back(first.client("QUIT\r\n"));
    frames.push_back(first.server("221 bye\r\n"));
    frames.push_back(first.client_fin());
    frames.push_back(first.server_fin());
    frames.push_back(first.ack());
  } else if (ending == "rst") {
    frames.push_back(first.frame_with_flags(true, misdirect::dataplane::kTcpRst | misdirect::dataplane::kTcpAck));
  }
  harness.send(frames);
  harness.now_ns += gap_ns;
  TcpConversation second("10.0.0.1", 40010, "10.0.0.2", 25, 777777, 888888);
  // One burst: nothing but the packets themselves moves time on.
  harness.send_burst({second.syn(), second.syn_ack(), second.ack(), second.server("220 mx\r\n"),
                second.client("HELO a\r\n"), second.server("250 hi\r\n"),
                second.client("MAIL FROM:<a@x.example>\r\n"), second.server("250 ok\r\n"),
                second.client("RCPT TO:<two@amry.mil>\r\n"), second.server("250 ok\r\n"),
                second.client("QUIT\r\n"), second.server("221 bye\r\n"), second.client_fin(),
                second.server_fin(), second.ack()});
  harness.finish();
  // "recipient flow_id": the second session must be a flow of its own, not fed to the first.
  std::vector<std::string> recipients;
  for (const std::string& alert : harness.records.alerts) {
    const auto start = alert.find(R"("recipient":")") + 13;
    const auto id = alert.find(R"("flow_id":)") + 10;
    recipients.push_back(alert.substr(start, alert.find('"', start) - start) + " " +
                         alert.substr(id, alert.find(',', id) - id));
  }
  return recipients;
}

// One alert per session, each with its own flow id (flow ids are salted permutations of the
// worker's flow sequence, so only their difference is checked).
void expect_two_flows(const std::vector<std::string>& recipients) {
  BOOST_REQUIRE_EQUAL(recipients.size(), 2u);
  BOOST_TEST(recipients[0].starts_with("one@army.ml "));
  BOOST_TEST(recipients[1].starts_with("two@amry.mil "));
  const std::string first_id = recipients[0].substr(recipients[0].find(' ') + 1);
  const std::string second_id = recipients[1].substr(recipients[1].find(' ') + 1);
  BOOST_TEST(!first_id.empty());
  BOOST_TEST(first_id != second_id);
}

}  // namespace

BOOST_AUTO_TEST_CASE(syn_after_fin_on_the_same_ports_starts_a_new_flow) {
  const std::vector<std::string> recipients = recipients_of_two_sessions("fin", kSecond);
  expect_two_flows(recipients);
}

BOOST_AUTO_TEST_CASE(syn_after_rst_on_the_same_ports_starts_a_new_flow) {
  const std::vector<std::string> recipients = recipients_of_two_sessions("rst", kSecond);
  expect_two_flows(recipients);
}

BOOST_AUTO_TEST_CASE(expiry_runs_by_packet_time_before_the_next_packet) {
  // The first session never closes; 400 s of silence pass its idle timeout (300 s). The next
  // packet on the same ports must find the old flow ended, not feed it.
  const std::vector<std::string> recipients = recipients_of_two_sessions("none", 400 * kSecond);
  expect_two_flows(recipients);
}

BOOST_AUTO_TEST_CASE(bucket_seed_is_random_per_run_unless_given) {
  // The flow table's and the fragment table's buckets are chosen with a secret: a random one
  // per worker, or --hash-seed's for reproducible runs; the records never depend on it.
  Harness first;
  Harness second;
  BOOST_TEST(first.worker->hash_seed() != 0u);
  BOOST_TEST(first.worker->hash_seed() != second.worker->hash_seed());
  WorkerConfig config = Harness::small_config();
  config.hash_seed = 42;
  Harness seeded(config);
  BOOST_TEST(seeded.worker->hash_seed() == 42u);
  TcpConversation a("10.0.0.1", 40001, "10.0.0.2", 25);
  TcpConversation b("10.0.0.1", 40001, "10.0.0.2", 25);
  seeded.send(plain_session(a));
  seeded.finish();
  first.send(plain_session(b));
  first.finish();
  BOOST_TEST(seeded.records.alerts == first.records.alerts, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(each_recipient_alerts_once_and_a_flow_stops_at_its_alert_cap) {
  // 300 distinct look-alike recipients, each sent twice in one flow: never a second alert for
  // one recipient, at most 256 alerts, and one anomaly record saying the cap was reached.
  Harness harness;
  TcpConversation c("10.0.0.1", 40020, "10.0.0.2", 25);
  std::vector<Bytes> frames = {c.syn(), c.syn_ack(), c.ack(), c.server("220 mx\r\n"), c.client("HELO a\r\n"),
                               c.server("250 hi\r\n"), c.client("MAIL FROM:<a@x.example>\r\n"),
                               c.server("250 ok\r\n")};
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 300; ++i) {
      frames.push_back(c.client("RCPT TO:<u" + std::to_string(i) + "@army.ml>\r\n"));
      frames.push_back(c.server("250 ok\r\n"));
    }
  }
  frames.push_back(c.client("QUIT\r\n"));
  frames.push_back(c.server("221 bye\r\n"));
  harness.send(frames);
  harness.finish();
  std::vector<std::string> recipients;
  std::size_t anomalies = 0;
  for (const std::string& record : harness.records.alerts) {
    if (contains(record, R"("event_type":"anomaly")")) {
      ++anomalies;
      BOOST_TEST(contains(record, R"("event":"ALERT_CAP_REACHED")"));
      BOOST_TEST(contains(record, R"("alert_cap":256)"));
      continue;
    }
    const auto start = record.find(R"("recipient":")") + 13;
    recipients.push_back(record.substr(start, record.find('"', start) - start));
  }
  BOOST_TEST(recipients.size() == 256u);
  BOOST_TEST(anomalies == 1u);
  std::sort(recipients.begin(), recipients.end());
  BOOST_TEST((std::adjacent_find(recipients.begin(), recipients.end()) == recipients.end()));
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("alerts_capped":88)"), stats);
  BOOST_TEST(contains(stats, R"("repeat_alerts_suppressed":256)"), stats);
}

BOOST_AUTO_TEST_CASE(a_vxlan_session_alerts_with_the_tunnel_object_and_its_identity) {
  Harness harness;
  TcpConversation c("10.0.0.5", 40001, "10.0.0.25", 25);
  harness.send(in_vxlan(plain_session(c), 7, "192.0.2.10", "192.0.2.20"));
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 2u);
  for (const std::string& record : harness.records.alerts) {
    // Suricata's tunnel object: the outer header of the flow's first packet.
    BOOST_TEST(contains(record, R"("src_ip":"10.0.0.5","src_port":40001,"dest_ip":"10.0.0.25","dest_port":25)"));
    BOOST_TEST(contains(record, R"("tunnel":{"src_ip":"192.0.2.10","src_port":50000,"dest_ip":"192.0.2.20",)"
                                R"("dest_port":4789,"proto":"UDP","depth":1})"));
    BOOST_TEST(contains(record, R"("tunnel":{"kind":"vxlan","id":7,"layers":["vxlan"]})"));
  }
  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
  BOOST_TEST(contains(harness.records.smtp[0], R"("proto":"UDP","depth":1})"));
  BOOST_TEST(contains(harness.records.smtp[0], R"("tunnel":{"kind":"vxlan","id":7,"layers":["vxlan"]})"));
}

BOOST_AUTO_TEST_CASE(an_untunnelled_flow_has_no_tunnel_object) {
  Harness harness;
  TcpConversation c("10.0.0.5", 40001, "10.0.0.25", 25);
  harness.send(plain_session(c));
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 2u);
  BOOST_TEST(!contains(harness.records.alerts[0], "tunnel"));
  BOOST_TEST(!contains(harness.records.smtp.at(0), "tunnel"));
}

BOOST_AUTO_TEST_CASE(two_tenants_with_the_same_inner_five_tuple_are_two_flows) {
  Harness harness;
  TcpConversation tenant_a("10.0.0.5", 40001, "10.0.0.25", 25);
  TcpConversation tenant_b("10.0.0.5", 40001, "10.0.0.25", 25, 7000, 9000);
  const auto a = in_vxlan(plain_session(tenant_a), 100, "192.0.2.10", "192.0.2.20");
  const auto b = in_vxlan(plain_session(tenant_b), 200, "192.0.2.10", "192.0.2.20");
  std::vector<Bytes> interleaved;
  for (std::size_t i = 0; i < a.size(); ++i) {
    interleaved.push_back(a[i]);
    interleaved.push_back(b[i]);
  }
  harness.send(interleaved);
  harness.finish();
  // Each tenant's session is whole (an accepted and a refused look-alike), so neither flow saw
  // the other's sequence numbers.
  const auto& alerts = harness.records.alerts;
  BOOST_REQUIRE_EQUAL(alerts.size(), 4u);
  const auto count = [&](std::string_view part) {
    return std::count_if(alerts.begin(), alerts.end(), [&](const std::string& a) { return contains(a, part); });
  };
  BOOST_TEST(count(R"("kind":"vxlan","id":100)") == 2);
  BOOST_TEST(count(R"("kind":"vxlan","id":200)") == 2);
  BOOST_TEST(count(R"("accepted":true)") == 2);
  BOOST_TEST(number_after(alerts[0], "flow_id") != number_after(alerts[1], "flow_id"));
  BOOST_TEST(harness.records.smtp.size() == 2u);
  BOOST_TEST(contains(stats_of(*harness.worker), R"("tcp":2)"));
}

BOOST_AUTO_TEST_CASE(both_directions_from_different_outer_sources_meet_in_one_flow) {
  Harness harness;
  TcpConversation c("10.0.0.5", 40001, "10.0.0.25", 25);
  // The client's packets are mirrored by one switch, the server's by another: each direction has
  // its own outer addresses, and one VNI.
  std::vector<Bytes> frames;
  bool from_client = true;
  for (const Bytes& frame : plain_session(c)) {
    // Frames the conversation built: client frames carry the client's address as the IPv4 source.
    from_client = frame[26] == 10 && frame[27] == 0 && frame[28] == 0 && frame[29] == 5;
    const auto wrapped = from_client ? in_vxlan({frame}, 7, "192.0.2.10", "192.0.2.20")
                                     : in_vxlan({frame}, 7, "198.51.100.30", "192.0.2.20");
    frames.push_back(wrapped[0]);
  }
  harness.send(frames);
  harness.finish();
  const auto& alerts = harness.records.alerts;
  BOOST_REQUIRE_EQUAL(alerts.size(), 2u);
  // The replies (from the other outer source) reached the flow: acceptance is known.
  BOOST_TEST(contains(alerts[0], R"("accepted":true)"));
  BOOST_TEST(contains(alerts[1], R"("accepted":false)"));
  BOOST_TEST(number_after(alerts[0], "flow_id") == number_after(alerts[1], "flow_id"));
  BOOST_TEST(contains(alerts[0], R"("tunnel":{"src_ip":"192.0.2.10")"));
  BOOST_REQUIRE_EQUAL(harness.records.smtp.size(), 1u);
}

BOOST_AUTO_TEST_CASE(mpls_on_ethernet_has_no_ip_tunnel_but_names_its_layers) {
  Harness harness;
  TcpConversation c("10.0.0.5", 40001, "10.0.0.25", 25);
  std::vector<Bytes> frames;
  for (const Bytes& frame : {c.client("RCPT TO:<x@army.ml>\r\n"), c.server("250 ok\r\n")}) {
    // Strip the Ethernet header (14 bytes): the IP packet goes under a label stack.
    const Bytes packet(frame.begin() + 14, frame.end());
    frames.push_back(misdirect::test_support::build_ethertype_frame({}, 0x8847,
                                                                   misdirect::test_support::mpls({16, 1000}, packet)));
  }
  harness.send(frames);
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  const std::string& alert = harness.records.alerts[0];
  BOOST_TEST(!contains(alert, R"("tunnel":{"src_ip")"));
  // MPLS labels do not key flows (they differ per direction), so there is no id.
  BOOST_TEST(contains(alert, R"("tunnel":{"kind":"mpls","layers":["mpls"]})"));
}

BOOST_AUTO_TEST_CASE(the_depth_bound_comes_from_the_config_and_drops_deeper_packets) {
  WorkerConfig config = Harness::small_config();
  config.max_encapsulation_depth = 1;
  Harness harness(config);
  TcpConversation c("10.0.0.5", 40001, "10.0.0.25", 25);
  const std::vector<Bytes> session = {c.client("RCPT TO:<x@army.ml>\r\n"), c.server("250 ok\r\n")};
  // One layer passes; VXLAN inside VXLAN is one too many.
  harness.send(in_vxlan(session, 7, "192.0.2.10", "192.0.2.20"));
  harness.send(in_vxlan(in_vxlan(session, 8, "192.0.2.30", "192.0.2.40"), 9, "192.0.2.10", "192.0.2.20"));
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("id":7)"));
  BOOST_TEST(contains(stats_of(*harness.worker), R"("too_many_layers":2)"));
}

BOOST_AUTO_TEST_CASE(vxlan_ports_come_from_the_config) {
  WorkerConfig config = Harness::small_config();
  config.vxlan_ports = {8472};
  Harness harness(config);
  TcpConversation c("10.0.0.5", 40001, "10.0.0.25", 25);
  std::vector<Bytes> frames;
  misdirect::test_support::IpSpec outer;
  outer.src = "192.0.2.10";
  outer.dst = "192.0.2.20";
  for (const Bytes& frame : {c.client("RCPT TO:<x@army.ml>\r\n"), c.server("250 ok\r\n")}) {
    for (const uint16_t port : {uint16_t{4789}, uint16_t{8472}}) {
      frames.push_back(misdirect::test_support::build_frame(
          {}, outer, 17, misdirect::test_support::build_udp_datagram(outer, 50000, port, misdirect::test_support::vxlan(port, frame))));
    }
  }
  harness.send(frames);
  harness.finish();
  BOOST_REQUIRE_EQUAL(harness.records.alerts.size(), 1u);
  BOOST_TEST(contains(harness.records.alerts[0], R"("dest_port":8472,"proto":"UDP")"));
  BOOST_TEST(contains(harness.records.alerts[0], R"("kind":"vxlan","id":8472)"));
}

// replay --workers' gate (LearnedBookGate): what the worker tells it, in the order it happens.
struct RecordingGate final : misdirect::dataplane::LearnedBookGate {
  void wait_for_earlier(uint32_t, uint32_t order, uint16_t quiet_before) noexcept override {
    reads.emplace_back(order, quiet_before);
  }
  void dns_streams_held(uint32_t, uint32_t held) noexcept override { held_counts.push_back(held); }
  std::vector<std::pair<uint32_t, uint16_t>> reads;
  std::vector<uint32_t> held_counts;
};

BOOST_AUTO_TEST_CASE(the_gate_hears_of_dns_streams_held_and_reads_with_the_packets_quiet_run) {
  RecordingGate gate;
  WorkerConfig config = Harness::small_config();
  config.learned_gate = &gate;
  Harness harness(config);
  uint32_t order = 0;
  const auto send = [&](const Bytes& frame, uint16_t quiet_before) {
    harness.now_ns += kSecond / 100;
    PacketView view = view_of(frame, misdirect::dataplane::LinkType::kEthernet, harness.now_ns);
    view.order = order++;
    view.quiet_before = quiet_before;
    harness.worker->process_burst(std::span<const PacketView>(&view, 1));
  };
  // A DNS datagram teaches only as it arrives: not a stream held.
  misdirect::test_support::UdpFrameSpec query;
  query.src_port = 40053;
  send(build_udp_frame(query), 0);
  BOOST_TEST(gate.held_counts.empty());
  // DNS over TCP: held from its first packet until the flow ends (its held bytes may still teach).
  TcpConversation dns("10.0.0.5", 40000, "10.0.0.53", 53);
  send(dns.syn(), 0);
  send(dns.syn_ack(), 0);
  BOOST_TEST(gate.held_counts == (std::vector<uint32_t>{1}), boost::test_tools::per_element());
  // An SMTP connection reads the book (its server's address) at its first bytes, with the
  // packet's place in the input and the quiet run before it.
  TcpConversation smtp("10.0.0.6", 40001, "10.0.0.25", 25);
  send(smtp.syn(), 4);
  send(smtp.syn_ack(), 5);
  send(smtp.ack(), 6);
  send(smtp.server("220 mx.example ESMTP\r\n"), 7);
  BOOST_TEST(!gate.reads.empty());
  BOOST_TEST(gate.reads.back().first == order - 1);
  BOOST_TEST(gate.reads.back().second == 7);
  harness.finish();
  BOOST_TEST(gate.held_counts == (std::vector<uint32_t>{1, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dns_records_past_the_reported_bound_are_counted) {
  // A response with 130 A records for one name (each compressed to the question): the first
  // 128 are reported, the last 2 are counted as skipped (docs/records.md, Bounds).
  Harness harness;
  misdirect::test_support::UdpFrameSpec answer;
  answer.ip.src = "192.0.2.53";
  answer.ip.dst = "192.0.2.10";
  answer.src_port = 53;
  answer.dst_port = 40000;
  answer.payload = {0, 5, 0x81, 0x80, 0, 1, 0, 130, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1};
  for (int i = 0; i < 130; ++i) {
    answer.payload.insert(answer.payload.end(),
                          {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, static_cast<uint8_t>(i)});
  }
  harness.send({misdirect::test_support::build_udp_frame(answer)});
  harness.finish();
  const std::string stats = stats_of(*harness.worker);
  BOOST_TEST(contains(stats, R"("records":128,"records_skipped":2)"));
}

BOOST_AUTO_TEST_SUITE_END()
