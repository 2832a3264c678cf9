// DnsEvent: what the DNS parser tells its consumer, as plain values.
//
// For every well-formed message: one DnsMessageBegin, its DnsQuestions, its DnsRecords (answer,
// authority and additional sections, in wire order), then one DnsMessageEnd. A malformed message
// gives one DnsAnomaly with `malformed` set and nothing else: none of its names reaches the
// consumer, so a crafted message can never raise an alert.
//
// String views point into the parser's scratch and are valid only during the sink call.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <variant>

#include "inspect/direction.h"

namespace misdirect::inspect {

inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeNs = 2;
inline constexpr uint16_t kDnsTypeCname = 5;
inline constexpr uint16_t kDnsTypeSoa = 6;
inline constexpr uint16_t kDnsTypePtr = 12;
inline constexpr uint16_t kDnsTypeMx = 15;
inline constexpr uint16_t kDnsTypeTxt = 16;
inline constexpr uint16_t kDnsTypeAaaa = 28;

// "A", "MX", ... as Suricata names them; empty for a type this parser has no name for.
std::string_view dns_type_name(uint16_t type) noexcept;
// "NOERROR", "NXDOMAIN", ... as Suricata names them; empty for codes without a name.
std::string_view dns_rcode_name(uint8_t rcode) noexcept;

struct DnsHeader {
  uint16_t id = 0;
  uint16_t flags = 0;  // the whole second header word (QR, opcode, AA, TC, RD, RA, Z, rcode)
  uint16_t question_count = 0;
  uint16_t answer_count = 0;
  uint16_t authority_count = 0;
  uint16_t additional_count = 0;

  bool response() const noexcept { return (flags & 0x8000) != 0; }
  uint8_t opcode() const noexcept { return static_cast<uint8_t>((flags >> 11) & 0x0f); }
  bool authoritative() const noexcept { return (flags & 0x0400) != 0; }
  bool truncated() const noexcept { return (flags & 0x0200) != 0; }
  bool recursion_desired() const noexcept { return (flags & 0x0100) != 0; }
  bool recursion_available() const noexcept { return (flags & 0x0080) != 0; }
  uint8_t rcode() const noexcept { return static_cast<uint8_t>(flags & 0x000f); }
};

// A well-formed message starts. For a response, `matched` says whether a query with the same id
// was seen on this flow (the other way) and still waited for its answer; `query_type` is that
// query's first question type.
struct DnsMessageBegin {
  Direction direction;
  DnsHeader header;
  bool matched;
  uint16_t query_type;
};

struct DnsQuestion {
  uint16_t id;
  bool response;
  std::string_view name;  // presentation form, no trailing dot; "" is the root
  uint16_t type;
  uint16_t dns_class;
};

enum class DnsSection : uint8_t { kAnswer, kAuthority, kAdditional };
std::string_view dns_section_name(DnsSection section) noexcept;

// One resource record. The type-specific fields are filled for the types named beside them;
// other types carry only `rdata_length`.
struct DnsRecord {
  uint16_t id;
  DnsSection section;
  std::string_view name;
  uint16_t type;
  uint16_t dns_class;
  uint32_t ttl;
  uint16_t rdata_length;
  std::array<uint8_t, 16> address;  // A (4 bytes), AAAA (16 bytes)
  uint8_t address_length;
  std::string_view target;          // CNAME, NS, PTR: the name; MX: the exchange; SOA: MNAME
  uint16_t preference;              // MX
  std::string_view mailbox;         // SOA: RNAME
  std::array<uint32_t, 5> soa;      // SOA: serial, refresh, retry, expire, minimum
  std::string_view text;            // TXT: the character-strings one after another (bounded)
};

struct DnsMessageEnd {
  uint16_t id;
  bool response;
  uint16_t records_skipped;  // records beyond DnsParser::kMaxRecords: checked, not reported
};

enum class DnsAnomalyKind : uint8_t {
  kShortMessage,      // fewer than the 12 header bytes
  kNoQuestion,        // question count zero (a query or response about nothing)
  kTooManyQuestions,  // more questions than DnsParser::kMaxQuestions
  kBadLabel,          // a label type other than a length or a pointer (0x40, 0x80)
  kNameTooLong,       // more than 255 octets once decompressed
  kPointerLoop,       // a compression pointer that does not point strictly backwards, or too many
  kPointerPastEnd,    // a compression pointer beyond the message
  kTruncated,         // a count, name, record or length runs past the end of the message
  kBadRdata,          // RDATA that does not fit its type (A not 4 bytes, MX name past RDLENGTH)
  kMessageTooLong,    // a TCP message longer than the parser's buffer (skipped by its length)
  kStreamGap,         // TCP bytes were lost: this direction's framing is gone
  kPendingOverflow,   // more unanswered queries than the parser remembers (the oldest forgotten)
};
std::string_view dns_anomaly_name(DnsAnomalyKind kind) noexcept;
inline constexpr int kDnsAnomalyKindCount = static_cast<int>(DnsAnomalyKind::kPendingOverflow) + 1;

struct DnsAnomaly {
  DnsAnomalyKind kind;
  Direction direction;
  bool malformed;  // a message was dropped for it
};

using DnsEvent = std::variant<DnsMessageBegin, DnsQuestion, DnsRecord, DnsMessageEnd, DnsAnomaly>;

class DnsEventSink {
 public:
  virtual void on_event(const DnsEvent& event) noexcept = 0;

 protected:
  ~DnsEventSink() = default;
};

}  // namespace misdirect::inspect
