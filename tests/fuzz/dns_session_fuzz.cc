// dns_session_fuzz: libFuzzer target feeding arbitrary bytes to DnsSession, as UDP datagrams and
// as a TCP stream, checking what the parser promises about malformed input.
//
// Input layout: the first byte picks the transport (low bit: 1 TCP) and the TCP buffer half (its
// other bits × 16 octets); then records, each a control byte followed by data. Control byte: low 7
// bits + 1 = chunk length (over UDP: one datagram); the top bit switches direction; control 0xff
// is a gap in the current direction. Seeds in tests/fuzz/corpus/dns are generator messages
// (tests/pcapgen/dns.py) in this framing.
//
// Checked: every event's names are readable and at most the presentation bound; a message gives
// Begin … End or exactly one malformed anomaly, never both; every record belongs to a begun message.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "inspect/dns_session.h"

namespace {

using namespace misdirect::inspect;

class CheckingSink final : public DnsEventSink {
 public:
  void on_event(const DnsEvent& event) noexcept override {
    if (const auto* begin = std::get_if<DnsMessageBegin>(&event)) {
      if (in_message_) {
        __builtin_trap();
      }
      (void)begin;
      in_message_ = true;
    } else if (const auto* question = std::get_if<DnsQuestion>(&event)) {
      require_in_message();
      read(question->name);
    } else if (const auto* record = std::get_if<DnsRecord>(&event)) {
      require_in_message();
      read(record->name);
      read(record->target);
      read(record->mailbox);
      if (record->text.size() > DnsMessageParser::kTxtTextBytes || record->address_length > 16) {
        __builtin_trap();
      }
    } else if (std::holds_alternative<DnsMessageEnd>(event)) {
      require_in_message();
      in_message_ = false;
    } else if (std::holds_alternative<DnsAnomaly>(event)) {
      if (in_message_) {
        __builtin_trap();  // an anomaly never interrupts a message that was reported
      }
    }
  }

 private:
  void require_in_message() const {
    if (!in_message_) {
      __builtin_trap();
    }
  }
  static void read(std::string_view name) {
    if (name.size() > DnsMessageParser::kNameTextBytes) {
      __builtin_trap();
    }
    volatile unsigned sum = 0;
    for (const char c : name) {
      sum = sum + static_cast<unsigned char>(c);
    }
  }
  bool in_message_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const bool tcp = (data[0] & 1) != 0;
  std::vector<uint8_t> buffer(tcp ? 2 * (16 + 16 * static_cast<std::size_t>(data[0] >> 1)) : 0);
  CheckingSink sink;
  DnsSession session(tcp ? DnsTransport::kTcp : DnsTransport::kUdp, sink, buffer);
  Direction direction = Direction::kClientToServer;
  std::size_t position = 1;
  while (position < size) {
    const uint8_t control = data[position++];
    if ((control & 0x80) != 0) {
      direction = direction == Direction::kClientToServer ? Direction::kServerToClient : Direction::kClientToServer;
    }
    if (control == 0xff) {
      session.on_gap(direction, 1);
      continue;
    }
    const std::size_t length = std::min<std::size_t>((control & 0x7f) + 1u, size - position);
    // A copy of exactly this chunk, so that ASan sees any read beyond it.
    std::vector<uint8_t> chunk(data + position, data + position + length);
    session.feed(direction, chunk);
    position += length;
  }
  session.finish();
  return 0;
}
