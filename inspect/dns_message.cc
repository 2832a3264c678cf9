// DnsMessageParser: the DNS wire format read with a bounds check on every octet.
#include "inspect/dns_message.h"

#include <algorithm>
#include <cstring>

namespace misdirect::inspect {
namespace {

constexpr std::size_t kRecordFixedBytes = 10;  // type, class, TTL, RDLENGTH after the name

uint16_t be16(std::span<const uint8_t> bytes, std::size_t at) noexcept {
  return static_cast<uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

uint32_t be32(std::span<const uint8_t> bytes, std::size_t at) noexcept {
  return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) | (uint32_t{bytes[at + 2]} << 8) |
         uint32_t{bytes[at + 3]};
}

// A name's walk: where it ends in place, and (when asked) its presentation form.
struct NameWalk {
  bool ok = false;
  DnsAnomalyKind anomaly = DnsAnomalyKind::kTruncated;
  std::size_t next = 0;     // the offset after the name where it is written (after its first pointer)
  std::size_t length = 0;   // characters written to the text
};

bool plain_label_octet(uint8_t octet) noexcept {
  return octet > 0x20 && octet < 0x7f && octet != '.' && octet != '\\';
}

// Walks the name at `offset`. With `text` non-empty, writes it there in presentation form (octets
// that are not plain printable ASCII, '.' and '\' inside a label escaped as \DDD, so a label
// holding a dot can never read as two labels).
NameWalk walk_name(std::span<const uint8_t> message, std::size_t offset, std::span<char> text) noexcept {
  NameWalk walk;
  std::size_t position = offset;
  std::size_t run_start = offset;  // where the current run of labels began (pointers go below it)
  std::size_t octets = 0;          // wire octets of the decompressed name, length octets included
  bool jumped = false;
  int hops = 0;
  while (true) {
    if (position >= message.size()) {
      walk.anomaly = DnsAnomalyKind::kTruncated;
      return walk;
    }
    const uint8_t length = message[position];
    if (length == 0) {
      octets += 1;
      if (octets > DnsMessageParser::kMaxNameOctets) {
        walk.anomaly = DnsAnomalyKind::kNameTooLong;
        return walk;
      }
      if (!jumped) {
        walk.next = position + 1;
      }
      walk.ok = true;
      return walk;
    }
    const uint8_t label_type = length & 0xc0;
    if (label_type == 0xc0) {
      if (position + 1 >= message.size()) {
        walk.anomaly = DnsAnomalyKind::kTruncated;
        return walk;
      }
      const std::size_t target = static_cast<std::size_t>(be16(message, position) & 0x3fff);
      if (target >= message.size() || target < DnsMessageParser::kHeaderBytes) {
        walk.anomaly = DnsAnomalyKind::kPointerPastEnd;
        return walk;
      }
      if (target >= run_start || ++hops > DnsMessageParser::kMaxPointerHops) {
        walk.anomaly = DnsAnomalyKind::kPointerLoop;
        return walk;
      }
      if (!jumped) {
        walk.next = position + 2;
        jumped = true;
      }
      position = target;
      run_start = target;
      continue;
    }
    if (label_type != 0) {
      walk.anomaly = DnsAnomalyKind::kBadLabel;
      return walk;
    }
    octets += 1 + length;
    if (octets > DnsMessageParser::kMaxNameOctets) {
      walk.anomaly = DnsAnomalyKind::kNameTooLong;
      return walk;
    }
    if (position + 1 + length > message.size()) {
      walk.anomaly = DnsAnomalyKind::kTruncated;
      return walk;
    }
    if (!text.empty()) {
      // Room: at most 4 characters an octet and one dot a label, and 255 octets in all.
      if (walk.length > 0) {
        text[walk.length++] = '.';
      }
      for (std::size_t i = 0; i < length; ++i) {
        const uint8_t octet = message[position + 1 + i];
        if (plain_label_octet(octet)) {
          text[walk.length++] = static_cast<char>(octet);
        } else {
          text[walk.length++] = '\\';
          text[walk.length++] = static_cast<char>('0' + octet / 100);
          text[walk.length++] = static_cast<char>('0' + (octet / 10) % 10);
          text[walk.length++] = static_cast<char>('0' + octet % 10);
        }
      }
    }
    position += 1 + length;
  }
}

// Checks the RDATA of one record of `type` at [start, end). Returns the anomaly, if any.
bool check_rdata(std::span<const uint8_t> message, uint16_t type, std::size_t start, std::size_t end,
                 DnsAnomalyKind& anomaly) noexcept {
  const std::size_t length = end - start;
  // A name inside RDATA may point anywhere earlier, but must end exactly where its field does.
  const auto name_until = [&](std::size_t at, std::size_t& next) {
    const NameWalk walk = walk_name(message.first(end), at, {});
    if (!walk.ok) {
      anomaly = walk.anomaly == DnsAnomalyKind::kTruncated ? DnsAnomalyKind::kBadRdata : walk.anomaly;
      return false;
    }
    next = walk.next;
    return true;
  };
  std::size_t next = 0;
  switch (type) {
    case kDnsTypeA:
      anomaly = DnsAnomalyKind::kBadRdata;
      return length == 4;
    case kDnsTypeAaaa:
      anomaly = DnsAnomalyKind::kBadRdata;
      return length == 16;
    case kDnsTypeCname:
    case kDnsTypeNs:
    case kDnsTypePtr:
      if (!name_until(start, next)) {
        return false;
      }
      anomaly = DnsAnomalyKind::kBadRdata;
      return next == end;
    case kDnsTypeMx:
      if (length < 3) {
        anomaly = DnsAnomalyKind::kBadRdata;
        return false;
      }
      if (!name_until(start + 2, next)) {
        return false;
      }
      anomaly = DnsAnomalyKind::kBadRdata;
      return next == end;
    case kDnsTypeSoa: {
      std::size_t after_mname = 0;
      if (!name_until(start, after_mname) || !name_until(after_mname, next)) {
        return false;
      }
      anomaly = DnsAnomalyKind::kBadRdata;
      return next + 20 == end;
    }
    case kDnsTypeTxt: {
      // One or more <length><octets> strings filling the RDATA exactly.
      std::size_t at = start;
      anomaly = DnsAnomalyKind::kBadRdata;
      if (at == end) {
        return false;
      }
      while (at < end) {
        at += 1 + message[at];
      }
      return at == end;
    }
    default:
      return true;
  }
}

}  // namespace

std::string_view dns_type_name(uint16_t type) noexcept {
  switch (type) {
    case kDnsTypeA: return "A";
    case kDnsTypeNs: return "NS";
    case kDnsTypeCname: return "CNAME";
    case kDnsTypeSoa: return "SOA";
    case kDnsTypePtr: return "PTR";
    case kDnsTypeMx: return "MX";
    case kDnsTypeTxt: return "TXT";
    case kDnsTypeAaaa: return "AAAA";
    case 33: return "SRV";
    case 41: return "OPT";
    case 43: return "DS";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 255: return "ANY";
    case 257: return "CAA";
    default: return {};
  }
}

std::string_view dns_rcode_name(uint8_t rcode) noexcept {
  switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    default: return {};
  }
}

std::string_view dns_section_name(DnsSection section) noexcept {
  switch (section) {
    case DnsSection::kAnswer: return "answer";
    case DnsSection::kAuthority: return "authority";
    case DnsSection::kAdditional: return "additional";
  }
  return "answer";
}

std::string_view dns_anomaly_name(DnsAnomalyKind kind) noexcept {
  switch (kind) {
    case DnsAnomalyKind::kShortMessage: return "short_message";
    case DnsAnomalyKind::kNoQuestion: return "no_question";
    case DnsAnomalyKind::kTooManyQuestions: return "too_many_questions";
    case DnsAnomalyKind::kBadLabel: return "bad_label";
    case DnsAnomalyKind::kNameTooLong: return "name_too_long";
    case DnsAnomalyKind::kPointerLoop: return "pointer_loop";
    case DnsAnomalyKind::kPointerPastEnd: return "pointer_past_end";
    case DnsAnomalyKind::kTruncated: return "truncated";
    case DnsAnomalyKind::kBadRdata: return "bad_rdata";
    case DnsAnomalyKind::kMessageTooLong: return "message_too_long";
    case DnsAnomalyKind::kStreamGap: return "stream_gap";
    case DnsAnomalyKind::kPendingOverflow: return "pending_overflow";
  }
  return "unknown";
}

DnsCheck DnsMessageParser::check(std::span<const uint8_t> message) const noexcept {
  DnsCheck result;
  if (message.size() < kHeaderBytes) {
    result.anomaly = DnsAnomalyKind::kShortMessage;
    return result;
  }
  DnsHeader& header = result.header;
  header.id = be16(message, 0);
  header.flags = be16(message, 2);
  header.question_count = be16(message, 4);
  header.answer_count = be16(message, 6);
  header.authority_count = be16(message, 8);
  header.additional_count = be16(message, 10);
  if (header.question_count == 0) {
    result.anomaly = DnsAnomalyKind::kNoQuestion;
    return result;
  }
  if (header.question_count > kMaxQuestions) {
    result.anomaly = DnsAnomalyKind::kTooManyQuestions;
    return result;
  }
  std::size_t position = kHeaderBytes;
  for (uint16_t i = 0; i < header.question_count; ++i) {
    const NameWalk walk = walk_name(message, position, {});
    if (!walk.ok) {
      result.anomaly = walk.anomaly;
      return result;
    }
    if (walk.next + 4 > message.size()) {
      result.anomaly = DnsAnomalyKind::kTruncated;
      return result;
    }
    if (i == 0) {
      result.first_question_type = be16(message, walk.next);
    }
    position = walk.next + 4;
  }
  // Counts come from the sender: each record is walked against the message length, so a count
  // larger than the message can hold ends in kTruncated after at most length / 11 records.
  const uint32_t records =
      uint32_t{header.answer_count} + header.authority_count + header.additional_count;
  for (uint32_t i = 0; i < records; ++i) {
    const NameWalk walk = walk_name(message, position, {});
    if (!walk.ok) {
      result.anomaly = walk.anomaly;
      return result;
    }
    if (walk.next + kRecordFixedBytes > message.size()) {
      result.anomaly = DnsAnomalyKind::kTruncated;
      return result;
    }
    const uint16_t type = be16(message, walk.next);
    const std::size_t rdata = walk.next + kRecordFixedBytes;
    const std::size_t rdata_end = rdata + be16(message, walk.next + 8);
    if (rdata_end > message.size()) {
      result.anomaly = DnsAnomalyKind::kTruncated;
      return result;
    }
    if (!check_rdata(message, type, rdata, rdata_end, result.anomaly)) {
      return result;
    }
    position = rdata_end;
  }
  result.well_formed = true;
  return result;
}

void DnsMessageParser::emit(std::span<const uint8_t> message, const DnsCheck& checked,
                            Direction direction, bool matched, uint16_t query_type,
                            DnsEventSink& sink) noexcept {
  const DnsHeader& header = checked.header;
  sink.on_event(DnsMessageBegin{direction, header, matched, query_type});
  std::span<char> owner(names_[static_cast<std::size_t>(Scratch::kOwner)]);
  std::span<char> target(names_[static_cast<std::size_t>(Scratch::kTarget)]);
  std::span<char> mailbox(names_[static_cast<std::size_t>(Scratch::kMailbox)]);
  std::size_t position = kHeaderBytes;
  for (uint16_t i = 0; i < header.question_count; ++i) {
    const NameWalk walk = walk_name(message, position, owner);
    sink.on_event(DnsQuestion{header.id, header.response(), {owner.data(), walk.length},
                              be16(message, walk.next), be16(message, walk.next + 2)});
    position = walk.next + 4;
  }
  const uint32_t answers = header.answer_count;
  const uint32_t authorities = header.authority_count;
  const uint32_t records = answers + authorities + header.additional_count;
  uint16_t skipped = 0;
  for (uint32_t i = 0; i < records; ++i) {
    const bool reported = i < kMaxRecords;
    const NameWalk walk = walk_name(message, position, reported ? owner : std::span<char>());
    const std::size_t rdata = walk.next + kRecordFixedBytes;
    const uint16_t rdata_length = be16(message, walk.next + 8);
    position = rdata + rdata_length;
    if (!reported) {
      ++skipped;
      continue;
    }
    DnsRecord record{};
    record.id = header.id;
    record.section = i < answers                 ? DnsSection::kAnswer
                     : i < answers + authorities ? DnsSection::kAuthority
                                                 : DnsSection::kAdditional;
    record.name = {owner.data(), walk.length};
    record.type = be16(message, walk.next);
    record.dns_class = be16(message, walk.next + 2);
    record.ttl = be32(message, walk.next + 4);
    record.rdata_length = rdata_length;
    const std::span<const uint8_t> until_end = message.first(position);
    switch (record.type) {
      case kDnsTypeA:
      case kDnsTypeAaaa:
        record.address_length = static_cast<uint8_t>(rdata_length);
        std::memcpy(record.address.data(), message.data() + rdata, rdata_length);
        break;
      case kDnsTypeCname:
      case kDnsTypeNs:
      case kDnsTypePtr:
        record.target = {target.data(), walk_name(until_end, rdata, target).length};
        break;
      case kDnsTypeMx:
        record.preference = be16(message, rdata);
        record.target = {target.data(), walk_name(until_end, rdata + 2, target).length};
        break;
      case kDnsTypeSoa: {
        const NameWalk mname = walk_name(until_end, rdata, target);
        record.target = {target.data(), mname.length};
        const NameWalk rname = walk_name(until_end, mname.next, mailbox);
        record.mailbox = {mailbox.data(), rname.length};
        for (std::size_t k = 0; k < record.soa.size(); ++k) {
          record.soa[k] = be32(message, rname.next + 4 * k);
        }
        break;
      }
      case kDnsTypeTxt: {
        std::size_t length = 0;
        for (std::size_t at = rdata; at < position; at += 1 + message[at]) {
          const std::size_t piece = std::min<std::size_t>(message[at], text_.size() - length);
          std::memcpy(text_.data() + length, message.data() + at + 1, piece);
          length += piece;
        }
        record.text = {text_.data(), length};
        break;
      }
      default:
        break;
    }
    sink.on_event(record);
  }
  sink.on_event(DnsMessageEnd{header.id, header.response(), skipped});
}

}  // namespace misdirect::inspect
