// smtp_session_fuzz: libFuzzer target feeding arbitrary bytes to SmtpSession in both directions.
//
// Input layout: the first byte picks the line bound and the pending-queue size; then a sequence of
// records, each a control byte followed by data. Control byte: low 7 bits + 1 = chunk length;
// the top bit switches direction; a chunk length of 128 with the switch bit set is a gap of the
// following byte's value in the current direction (control 0xff). The run starts in the client
// direction. Seeds in tests/fuzz/corpus/smtp are realistic sessions in this framing, chunks of at
// most 100 octets.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "inspect/smtp_session.h"

namespace {

using misdirect::inspect::Direction;

// Checks the contract while fuzzing: ids carried by MailFrom/RcptTo end exactly once, and keeps
// a transcript so the chunked run can be compared with a byte-by-byte run.
class CheckingSink final : public misdirect::inspect::SmtpEventSink {
 public:
  void on_event(const misdirect::inspect::SmtpEvent& event) noexcept override {
    using namespace misdirect::inspect;
    if (const auto* content = std::get_if<MessageContent>(&event)) {
      // Pieces follow the chunking: only their bytes, joined, are the same for every run.
      content_bytes.append(content->bytes);
      return;
    }
    transcript.push_back(static_cast<char>('A' + event.index()));
    if (const auto* mail = std::get_if<MailFrom>(&event)) {
      note(mail->transaction);
      transcript.append(mail->address);
    } else if (const auto* rcpt = std::get_if<RcptTo>(&event)) {
      note(rcpt->transaction);
      transcript.append(rcpt->domain);
      transcript += std::to_string(rcpt->transaction) + "/" + std::to_string(rcpt->recipient);
      // The views must be readable.
      volatile std::size_t sum = 0;
      for (const char c : rcpt->address) {
        sum = sum + static_cast<unsigned char>(c);
      }
    } else if (const auto* end = std::get_if<TransactionEnd>(&event)) {
      if (!seen(end->transaction) || ended(end->transaction)) {
        __builtin_trap();
      }
      ended_.push_back(end->transaction);
      transcript += std::to_string(end->transaction) + "/" + std::to_string(end->reply_code);
    } else if (const auto* reply = std::get_if<RcptReply>(&event)) {
      transcript += std::to_string(reply->recipient) + "/" + std::to_string(reply->code);
    } else if (const auto* anomaly = std::get_if<Anomaly>(&event)) {
      transcript += std::to_string(static_cast<int>(anomaly->kind));
    }
  }
  std::string transcript;
  std::string content_bytes;

  void check_all_ended() const {
    for (const uint32_t id : seen_) {
      if (!ended(id)) {
        __builtin_trap();
      }
    }
  }

 private:
  void note(uint32_t id) {
    if (id == 0 || ended(id)) {
      __builtin_trap();  // a transaction id used after its end
    }
    seen_.push_back(id);
  }
  bool seen(uint32_t id) const {
    for (const uint32_t s : seen_) {
      if (s == id) {
        return true;
      }
    }
    return false;
  }
  bool ended(uint32_t id) const {
    for (const uint32_t e : ended_) {
      if (e == id) {
        return true;
      }
    }
    return false;
  }
  std::vector<uint32_t> seen_;
  std::vector<uint32_t> ended_;
};

}  // namespace

namespace {

// Replays the input; `byte_by_byte` feeds every chunk one octet at a time.
std::string run(const uint8_t* data, std::size_t size, bool byte_by_byte) {
  misdirect::inspect::SmtpConfig config;
  config.max_line_bytes = 16u + (data[0] & 0x0fu) * 64u;
  config.max_pending_commands = 1u + (data[0] >> 4) * 9u;
  std::vector<char> line_buffer(config.max_line_bytes);
  CheckingSink sink;
  misdirect::inspect::SmtpSession session(config, sink, line_buffer);

  Direction direction = Direction::kClientToServer;
  std::size_t position = 1;
  while (position < size) {
    const uint8_t control = data[position++];
    if (control == 0xff) {
      if (position < size) {
        session.on_gap(direction, data[position++]);
      }
      continue;
    }
    if ((control & 0x80) != 0) {
      direction = direction == Direction::kClientToServer ? Direction::kServerToClient
                                                          : Direction::kClientToServer;
    }
    std::size_t length = (control & 0x7fu) + 1u;
    if (length > size - position) {
      length = size - position;
    }
    if (byte_by_byte) {
      for (std::size_t i = 0; i < length; ++i) {
        session.feed(direction, std::span<const uint8_t>(data + position + i, 1));
      }
    } else {
      session.feed(direction, std::span<const uint8_t>(data + position, length));
    }
    position += length;
  }
  session.finish();
  sink.check_all_ended();
  return std::move(sink.transcript) + '|' + sink.content_bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  if (run(data, size, false) != run(data, size, true)) {
    __builtin_trap();  // chunking changed the events
  }
  return 0;
}
