// DnsMessageParser: reads one whole DNS message (RFC 1035 §4) — header, questions and the three
// record sections, with name compression — and reports it as DnsEvents.
//
// Two passes over the message: check() walks every count, name, pointer and length without
// copying anything and names the first thing that is wrong; only a message that passed is then
// emitted, names decoded into the parser's own scratch. So a malformed message reports nothing but
// its anomaly (never a question that could alert), and every read is bounds-checked twice over.
//
// Bounds, and why they terminate:
//   * A name is at most 255 octets on the wire once decompressed (RFC 1035 §3.1).
//   * A compression pointer must point strictly before the start of the label run that holds it
//     (the first run starts at the name itself). Targets therefore strictly decrease, so no loop
//     survives, and at most kMaxPointerHops are followed. Compressors only ever point at suffixes
//     written earlier, which always satisfies this.
//   * Question count at most kMaxQuestions; records are all checked (the message length bounds
//     them: each takes at least 11 octets) but only the first kMaxRecords are reported.
// Allocation-free: the scratch is a member; the message is only read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inspect/dns_event.h"

namespace misdirect::inspect {

// What check() found: the header and first question type of a good message, or why it is bad.
struct DnsCheck {
  bool well_formed = false;
  DnsAnomalyKind anomaly = DnsAnomalyKind::kShortMessage;  // when not well formed
  DnsHeader header;
  uint16_t first_question_type = 0;
};

class DnsMessageParser {
 public:
  static constexpr std::size_t kHeaderBytes = 12;
  static constexpr uint16_t kMaxQuestions = 8;
  static constexpr uint16_t kMaxRecords = 128;
  static constexpr int kMaxPointerHops = 64;
  static constexpr std::size_t kMaxNameOctets = 255;
  // A 255-octet name in presentation form with every octet escaped as \DDD.
  static constexpr std::size_t kNameTextBytes = 4 * kMaxNameOctets;
  static constexpr std::size_t kTxtTextBytes = 512;

  DnsCheck check(std::span<const uint8_t> message) const noexcept;
  // Reports a message that check() passed: Begin, questions, records, End.
  void emit(std::span<const uint8_t> message, const DnsCheck& checked, Direction direction,
            bool matched, uint16_t query_type, DnsEventSink& sink) noexcept;

 private:
  enum class Scratch : uint8_t { kOwner, kTarget, kMailbox };
  // Scratch, written before it is read: left uninitialised so that a new session (one per DNS
  // flow) touches none of its 3.5 KiB until a message needs it.
  std::array<std::array<char, kNameTextBytes>, 3> names_;
  std::array<char, kTxtTextBytes> text_;
};

}  // namespace misdirect::inspect
