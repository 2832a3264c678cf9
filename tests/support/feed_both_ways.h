// FeedBothWays: runs an SMTP script through SmtpSession whole, byte by byte and in seeded random
// chunks, checks every run gives the same events, and returns them rendered as strings.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "inspect/smtp_event.h"
#include "inspect/smtp_session.h"

namespace misdirect::test_support {

// One step of a script: bytes of one direction, a gap in one direction, the end of the flow, or
// whether the client's stream is waiting on a hole (SmtpSession::set_client_lagging).
struct SmtpStep {
  enum class Kind : uint8_t { kBytes, kGap, kFinish, kClientLagging };
  Kind kind = Kind::kBytes;
  inspect::Direction direction = inspect::Direction::kClientToServer;
  std::string bytes;
  uint64_t gap_bytes = 0;
};

inline SmtpStep client(std::string_view bytes) {
  return {SmtpStep::Kind::kBytes, inspect::Direction::kClientToServer, std::string(bytes), 0};
}
inline SmtpStep server(std::string_view bytes) {
  return {SmtpStep::Kind::kBytes, inspect::Direction::kServerToClient, std::string(bytes), 0};
}
inline SmtpStep gap(inspect::Direction direction, uint64_t byte_count) {
  return {SmtpStep::Kind::kGap, direction, {}, byte_count};
}
inline SmtpStep finish() { return {SmtpStep::Kind::kFinish, {}, {}, 0}; }
inline SmtpStep client_lagging(bool lagging) {
  return {SmtpStep::Kind::kClientLagging, {}, {}, lagging ? 1u : 0u};
}

inline std::string render_smtp_event(const inspect::SmtpEvent& event) {
  using namespace misdirect::inspect;
  struct Renderer {
    std::string operator()(const CommandSeen& e) const { return "cmd " + std::string(verb_name(e.verb)); }
    std::string operator()(const Helo& e) const {
      return std::string(e.lmtp ? "lhlo " : e.extended ? "ehlo " : "helo ") + std::string(e.hostname);
    }
    std::string operator()(const MailFrom& e) const {
      std::string out = "mail t" + std::to_string(e.transaction) + " <" + std::string(e.address) + ">";
      if (!e.parameters.empty()) {
        out += " [" + std::string(e.parameters) + "]";
      }
      if (e.smtputf8) {
        out += " smtputf8";
      }
      return out;
    }
    std::string operator()(const RcptTo& e) const {
      std::string out = "rcpt t" + std::to_string(e.transaction) + " r" + std::to_string(e.recipient) + " <" +
                        std::string(e.address) + "> @" + std::string(e.domain);
      if (!e.parameters.empty()) {
        out += " [" + std::string(e.parameters) + "]";
      }
      return out;
    }
    std::string operator()(const RcptReply& e) const {
      return "reply t" + std::to_string(e.transaction) + " r" + std::to_string(e.recipient) + " " +
             std::to_string(e.code);
    }
    std::string operator()(const TransactionEnd& e) const {
      return "end t" + std::to_string(e.transaction) + " " + std::string(transaction_end_reason_name(e.reason)) +
             " " + std::to_string(e.reply_code) + (e.delivered ? " delivered" : "");
    }
    std::string operator()(const DeliveryReply& e) const {
      return "delivery t" + std::to_string(e.transaction) + " r" + std::to_string(e.recipient) + " " +
             std::to_string(e.code);
    }
    std::string operator()(const TlsStarted&) const { return "tls"; }
    std::string operator()(const MessageContent& e) const {
      return "content t" + std::to_string(e.transaction) + (e.dot_stuffed ? " data " : " bdat ") +
             std::string(e.bytes);
    }
    std::string operator()(const Anomaly& e) const {
      return std::string("anomaly ") + (e.direction == Direction::kClientToServer ? "client " : "server ") +
             std::string(anomaly_name(e.kind));
    }
  };
  return std::visit(Renderer{}, event);
}

// Message content arrives in pieces that follow the input's chunking, so it is kept apart from
// the other events: consecutive pieces of one message are joined into one `content` entry.
class RecordingSmtpSink final : public inspect::SmtpEventSink {
 public:
  void on_event(const inspect::SmtpEvent& event) noexcept override {
    if (const auto* piece = std::get_if<inspect::MessageContent>(&event)) {
      if (piece->bytes.empty()) {
        return;
      }
      const std::string head = "content t" + std::to_string(piece->transaction) +
                               (piece->dot_stuffed ? " data " : " bdat ");
      if (last_was_content_ && content.back().rfind(head, 0) == 0) {
        content.back() += std::string(piece->bytes);
      } else {
        content.push_back(render_smtp_event(event));
      }
      last_was_content_ = true;
      return;
    }
    last_was_content_ = false;
    events.push_back(render_smtp_event(event));
  }
  std::vector<std::string> events;
  std::vector<std::string> content;

 private:
  bool last_was_content_ = false;
};

struct SmtpRun {
  std::vector<std::string> events;
  bool encrypted = false;
  std::vector<std::string> content;  // "content tN data|bdat <bytes>", one per message piece run
};

// `chunk_size(step_size)` picks the next chunk length for a step.
template <typename ChunkSize>
SmtpRun run_smtp_script(const std::vector<SmtpStep>& script, const inspect::SmtpConfig& config,
                        ChunkSize chunk_size) {
  RecordingSmtpSink sink;
  std::vector<char> line_buffer(config.max_line_bytes);
  inspect::SmtpSession session(config, sink, line_buffer);
  for (const SmtpStep& step : script) {
    switch (step.kind) {
      case SmtpStep::Kind::kBytes: {
        const auto* data = reinterpret_cast<const uint8_t*>(step.bytes.data());
        std::size_t offset = 0;
        while (offset < step.bytes.size()) {
          const std::size_t length = std::min(chunk_size(step.bytes.size() - offset), step.bytes.size() - offset);
          session.feed(step.direction, std::span<const uint8_t>(data + offset, length));
          offset += length;
        }
        break;
      }
      case SmtpStep::Kind::kGap:
        session.on_gap(step.direction, step.gap_bytes);
        break;
      case SmtpStep::Kind::kFinish:
        session.finish();
        break;
      case SmtpStep::Kind::kClientLagging:
        session.set_client_lagging(step.gap_bytes != 0);
        break;
    }
  }
  return {std::move(sink.events), session.encrypted(), std::move(sink.content)};
}

// Runs the script whole, byte by byte and in three seeded random chunkings; every run must give
// the same events. Returns them.
inline SmtpRun feed_both_ways(const std::vector<SmtpStep>& script, const inspect::SmtpConfig& config = {}) {
  const SmtpRun whole = run_smtp_script(script, config, [](std::size_t rest) { return rest; });
  const SmtpRun bytes = run_smtp_script(script, config, [](std::size_t) { return std::size_t{1}; });
  BOOST_TEST(whole.events == bytes.events, boost::test_tools::per_element());
  BOOST_TEST(whole.encrypted == bytes.encrypted);
  BOOST_TEST(whole.content == bytes.content, boost::test_tools::per_element());
  for (const uint32_t seed : {1u, 7u, 42u}) {
    std::mt19937 random(seed);
    const SmtpRun chunked = run_smtp_script(script, config, [&random](std::size_t) {
      return static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 9)(random));
    });
    BOOST_TEST(whole.events == chunked.events, boost::test_tools::per_element());
    BOOST_TEST(whole.content == chunked.content, boost::test_tools::per_element());
  }
  return whole;
}

// The events without the per-command `cmd …` lines, for cases about envelopes.
inline std::vector<std::string> without_commands(const std::vector<std::string>& events) {
  std::vector<std::string> kept;
  for (const std::string& event : events) {
    if (event.rfind("cmd ", 0) != 0) {
      kept.push_back(event);
    }
  }
  return kept;
}

}  // namespace misdirect::test_support

// --- DNS -----------------------------------------------------------------------------------------
// The same discipline for DnsSession: a script of whole DNS messages, run as UDP datagrams, and as
// one TCP connection (each message after its two-octet length) whole, byte by byte and in seeded
// random chunks; all four runs must give the same events.
#include "inspect/dns_session.h"

namespace misdirect::test_support {

struct DnsStep {
  inspect::Direction direction = inspect::Direction::kClientToServer;
  std::vector<uint8_t> message;
};

inline std::string render_dns_name(std::string_view name) { return name.empty() ? "<root>" : std::string(name); }

inline std::string render_dns_event(const inspect::DnsEvent& event) {
  using namespace misdirect::inspect;
  struct Renderer {
    std::string operator()(const DnsMessageBegin& e) const {
      std::string out = std::string(e.header.response() ? "response " : "query ") + std::to_string(e.header.id);
      if (e.header.response()) {
        out += " " + std::string(dns_rcode_name(e.header.rcode()));
        out += e.matched ? " matched " + std::string(dns_type_name(e.query_type)) : " unmatched";
      }
      return out;
    }
    std::string operator()(const DnsQuestion& e) const {
      return "question " + render_dns_name(e.name) + " " + std::string(dns_type_name(e.type));
    }
    std::string operator()(const DnsRecord& e) const {
      std::string out = std::string(dns_section_name(e.section)) + " " + render_dns_name(e.name) + " " +
                        std::string(dns_type_name(e.type)) + " ttl " + std::to_string(e.ttl);
      if (e.address_length > 0) {
        out += " addr";
        for (uint8_t i = 0; i < e.address_length; ++i) {
          out += (i == 0 ? " " : ".") + std::to_string(e.address[i]);
        }
      }
      if (e.type == kDnsTypeMx) {
        out += " pref " + std::to_string(e.preference);
      }
      if (!e.target.empty()) {
        out += " -> " + std::string(e.target);
      }
      if (!e.mailbox.empty()) {
        out += " mbox " + std::string(e.mailbox) + " serial " + std::to_string(e.soa[0]);
      }
      if (!e.text.empty()) {
        out += " text \"" + std::string(e.text) + "\"";
      }
      return out;
    }
    std::string operator()(const DnsMessageEnd& e) const {
      return "end " + std::to_string(e.id) + (e.records_skipped > 0 ? " skipped " + std::to_string(e.records_skipped) : "");
    }
    std::string operator()(const DnsAnomaly& e) const {
      return std::string("anomaly ") + std::string(dns_anomaly_name(e.kind)) + (e.malformed ? " malformed" : "");
    }
  };
  return std::visit(Renderer{}, event);
}

class RecordingDnsSink final : public inspect::DnsEventSink {
 public:
  void on_event(const inspect::DnsEvent& event) noexcept override { events.push_back(render_dns_event(event)); }
  std::vector<std::string> events;
};

inline std::vector<std::string> run_dns_udp(const std::vector<DnsStep>& script) {
  RecordingDnsSink sink;
  inspect::DnsSession session(inspect::DnsTransport::kUdp, sink);
  for (const DnsStep& step : script) {
    session.feed(step.direction, step.message);
  }
  session.finish();
  return std::move(sink.events);
}

template <typename ChunkSize>
std::vector<std::string> run_dns_tcp(const std::vector<DnsStep>& script, ChunkSize chunk_size,
                                     std::size_t buffer_bytes = 2 * inspect::DnsSession::kDefaultTcpMessageBytes) {
  RecordingDnsSink sink;
  std::vector<uint8_t> buffer(buffer_bytes);
  inspect::DnsSession session(inspect::DnsTransport::kTcp, sink, buffer);
  for (const DnsStep& step : script) {
    std::vector<uint8_t> framed = {static_cast<uint8_t>(step.message.size() >> 8),
                                   static_cast<uint8_t>(step.message.size())};
    framed.insert(framed.end(), step.message.begin(), step.message.end());
    std::size_t offset = 0;
    while (offset < framed.size()) {
      const std::size_t length = std::min(chunk_size(framed.size() - offset), framed.size() - offset);
      session.feed(step.direction, std::span<const uint8_t>(framed.data() + offset, length));
      offset += length;
    }
  }
  session.finish();
  return std::move(sink.events);
}

inline std::vector<std::string> feed_dns_both_ways(const std::vector<DnsStep>& script) {
  const std::vector<std::string> udp = run_dns_udp(script);
  const std::vector<std::string> whole = run_dns_tcp(script, [](std::size_t rest) { return rest; });
  const std::vector<std::string> bytes = run_dns_tcp(script, [](std::size_t) { return std::size_t{1}; });
  BOOST_TEST(udp == whole, boost::test_tools::per_element());
  BOOST_TEST(whole == bytes, boost::test_tools::per_element());
  for (const uint32_t seed : {1u, 7u, 42u}) {
    std::mt19937 random(seed);
    const std::vector<std::string> chunked = run_dns_tcp(script, [&random](std::size_t) {
      return static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 9)(random));
    });
    BOOST_TEST(whole == chunked, boost::test_tools::per_element());
  }
  return udp;
}

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

}  // namespace misdirect::test_support

// --- TLS ClientHello -----------------------------------------------------------------------------
// The client's TLS bytes whole, byte by byte and in seeded random chunks: every run must report
// the same events.
#include "inspect/tls_client_hello.h"

namespace misdirect::test_support {

inline std::string render_tls_event(const inspect::TlsEvent& event) {
  if (const auto* hello = std::get_if<inspect::TlsClientHello>(&event)) {
    return "hello sni=" + std::string(hello->server_name) + " version=" +
           std::string(inspect::tls_version_name(hello->highest_version));
  }
  return "anomaly " + std::string(inspect::tls_anomaly_name(std::get<inspect::TlsAnomaly>(event).kind));
}

class RecordingTlsSink final : public inspect::TlsEventSink {
 public:
  void on_event(const inspect::TlsEvent& event) noexcept override { events.push_back(render_tls_event(event)); }
  std::vector<std::string> events;
};

template <typename ChunkSize>
std::vector<std::string> run_tls(const std::vector<uint8_t>& bytes, ChunkSize chunk_size) {
  RecordingTlsSink sink;
  inspect::TlsHelloParser parser(sink);
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const std::size_t length = std::min(chunk_size(bytes.size() - offset), bytes.size() - offset);
    parser.feed(inspect::Direction::kClientToServer, std::span<const uint8_t>(bytes.data() + offset, length));
    offset += length;
  }
  parser.finish();
  return std::move(sink.events);
}

inline std::vector<std::string> feed_tls_both_ways(const std::vector<uint8_t>& bytes) {
  const auto whole = run_tls(bytes, [](std::size_t rest) { return rest; });
  const auto single = run_tls(bytes, [](std::size_t) { return std::size_t{1}; });
  BOOST_TEST(whole == single, boost::test_tools::per_element());
  for (const uint32_t seed : {1u, 7u, 42u}) {
    std::mt19937 random(seed);
    const auto chunked = run_tls(bytes, [&random](std::size_t) {
      return static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 40)(random));
    });
    BOOST_TEST(whole == chunked, boost::test_tools::per_element());
  }
  return whole;
}

}  // namespace misdirect::test_support
