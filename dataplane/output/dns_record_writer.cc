// DnsRecordWriter: the EVE layout of DNS flows' records (Suricata's `alert` and `dns` version 3
// blocks, misdirect's fields under `misdirect`), written into the worker's record buffers.
#include "dataplane/output/dns_record_writer.h"

#include <array>
#include <cstring>
#include <span>

#include "dataplane/output/lookalike_alert.h"
#include "inspect/lookalike_role.h"

namespace misdirect::dataplane {
namespace {

// "TYPE65280" for a type without a name, as RFC 3597 writes it.
std::string_view type_text(uint16_t type, std::array<char, 12>& scratch) noexcept {
  const std::string_view name = inspect::dns_type_name(type);
  if (!name.empty()) {
    return name;
  }
  char* out = scratch.data();
  for (const char c : std::string_view("TYPE")) {
    *out++ = c;
  }
  const std::size_t digits = JsonLineWriter::digit_count(type);
  out = JsonLineWriter::append_digits(out, digits, type);
  return {scratch.data(), static_cast<std::size_t>(out - scratch.data())};
}

std::string_view rcode_text(uint8_t rcode, std::array<char, 12>& scratch) noexcept {
  const std::string_view name = inspect::dns_rcode_name(rcode);
  if (!name.empty()) {
    return name;
  }
  const std::size_t digits = JsonLineWriter::digit_count(rcode);
  char* out = JsonLineWriter::append_digits(scratch.data(), digits, rcode);
  return {scratch.data(), static_cast<std::size_t>(out - scratch.data())};
}

// The flags word in lowercase hex without leading zeros, as Suricata writes it ("8180").
std::string_view flags_text(uint16_t flags, std::array<char, 8>& scratch) noexcept {
  constexpr char kHex[] = "0123456789abcdef";
  std::size_t length = 0;
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned digit = (flags >> shift) & 0xf;
    if (digit != 0 || started || shift == 0) {
      scratch[length++] = kHex[digit];
      started = true;
    }
  }
  return {scratch.data(), length};
}

FlowIdentity reversed(const FlowIdentity& identity) noexcept {
  FlowIdentity out = identity;
  out.client = identity.server;
  out.server = identity.client;
  out.client_port = identity.server_port;
  out.server_port = identity.client_port;
  return out;
}

}  // namespace

void DnsRecordWriter::alert(const FlowIdentity& flow, uint64_t timestamp_ns, const DnsAlertFacts& facts) noexcept {
  std::array<char, 12> type_scratch;
  std::array<char, 12> rcode_scratch;
  JsonLineWriter& json = eve_.begin("alert", timestamp_ns, &flow, pcap_filename_);
  write_lookalike_alert_header(json, "dns", inspect::LookalikeRole::kDnsQuery, facts.kind);
  json.key("dns");
  json.begin_object();
  json.member_number("version", 3);
  json.member_plain_string("type", "request");
  json.member_number("id", facts.id);
  json.key("queries");
  json.begin_array();
  json.begin_object();
  json.key("rrname");
  json.string(facts.name);
  json.member_plain_string("rrtype", type_text(facts.query_type, type_scratch));
  json.end_object();
  json.end_array();
  json.end_object();
  json.key("misdirect");
  json.begin_object();
  write_tunnel_extension(json, flow);
  json.member_plain_string("role", inspect::role_name(inspect::LookalikeRole::kDnsQuery));
  json.key("domain");
  json.string(facts.domain);
  write_lookalike_verdict(json, facts.protected_domain, facts.kind, facts.variant);
  json.member_plain_string("query_type", type_text(facts.query_type, type_scratch));
  if (facts.answered) {
    json.member_plain_string("rcode", rcode_text(facts.rcode, rcode_scratch));
  } else {
    json.member_raw("rcode", "null");
  }
  json.member_number("generation", facts.generation);
  json.end_object();
  if (emit(RecordType::kAlert, eve_.finish(), DnsCounter::kAlerts) && alert_kinds_ != nullptr) {
    ++(*alert_kinds_)[static_cast<std::size_t>(facts.kind)];
  }
}

void DnsRecordWriter::message_begin(const FlowIdentity& flow, uint64_t timestamp_ns,
                                    const inspect::DnsMessageBegin& message) noexcept {
  const inspect::DnsHeader& header = message.header;
  const bool response = header.response();
  // Suricata (version 3) writes a response from the responder's side.
  const FlowIdentity responder = reversed(flow);
  const bool from_client = message.direction == inspect::Direction::kClientToServer;
  JsonLineWriter& json = dns_eve_.begin("dns", timestamp_ns, from_client ? &flow : &responder, pcap_filename_);
  std::array<char, 8> flags_scratch;
  std::array<char, 12> rcode_scratch;
  json.member_plain_string("app_proto", "dns");
  json.key("dns");
  json.begin_object();
  json.member_number("version", 3);
  json.member_plain_string("type", response ? "response" : "request");
  json.member_number("id", header.id);
  json.member_plain_string("flags", flags_text(header.flags, flags_scratch));
  if (response) {
    json.member_raw("qr", "true");
  }
  if (header.authoritative()) {
    json.member_raw("aa", "true");
  }
  if (header.truncated()) {
    json.member_raw("tc", "true");
  }
  if (header.recursion_desired()) {
    json.member_raw("rd", "true");
  }
  if (header.recursion_available()) {
    json.member_raw("ra", "true");
  }
  json.member_number("opcode", header.opcode());
  json.member_plain_string("rcode", rcode_text(header.rcode(), rcode_scratch));
  json.key("queries");
  json.begin_array();
  queries_open_ = true;
  section_open_ = false;
}

void DnsRecordWriter::message_question(const inspect::DnsQuestion& question) noexcept {
  std::array<char, 12> type_scratch;
  JsonLineWriter& json = dns_eve_.json();
  json.begin_object();
  json.key("rrname");
  json.string(question.name.empty() ? std::string_view("<root>") : question.name);
  json.member_plain_string("rrtype", type_text(question.type, type_scratch));
  json.end_object();
}

void DnsRecordWriter::message_record(const inspect::DnsRecord& record) noexcept {
  JsonLineWriter& json = dns_eve_.json();
  if (queries_open_) {
    json.end_array();
    queries_open_ = false;
  }
  if (!section_open_ || open_section_ != record.section) {
    if (section_open_) {
      json.end_array();
    }
    json.key(record.section == inspect::DnsSection::kAnswer      ? "answers"
             : record.section == inspect::DnsSection::kAuthority ? "authorities"
                                                                 : "additionals");
    json.begin_array();
    section_open_ = true;
    open_section_ = record.section;
  }
  std::array<char, 12> type_scratch;
  json.begin_object();
  json.key("rrname");
  json.string(record.name.empty() ? std::string_view("<root>") : record.name);
  json.member_plain_string("rrtype", type_text(record.type, type_scratch));
  json.member_number("ttl", record.ttl);
  switch (record.type) {
    case inspect::kDnsTypeA:
    case inspect::kDnsTypeAaaa: {
      IpAddress address;
      std::memcpy(address.bytes.data(), record.address.data(), record.address_length);
      address.version = record.address_length == 4 ? 4 : 6;
      char text[kIpTextBytes];
      json.member_plain_string("rdata", format_ip(address, std::span<char, kIpTextBytes>(text)));
      break;
    }
    case inspect::kDnsTypeCname:
    case inspect::kDnsTypeNs:
    case inspect::kDnsTypePtr:
    case inspect::kDnsTypeMx:
      json.key("rdata");
      json.string(record.target);
      break;
    case inspect::kDnsTypeTxt:
      json.key("rdata");
      json.string(record.text);
      break;
    case inspect::kDnsTypeSoa:
      json.key("soa");
      json.begin_object();
      json.key("mname");
      json.string(record.target);
      json.key("rname");
      json.string(record.mailbox);
      json.member_number("serial", record.soa[0]);
      json.member_number("refresh", record.soa[1]);
      json.member_number("retry", record.soa[2]);
      json.member_number("expire", record.soa[3]);
      json.member_number("minimum", record.soa[4]);
      json.end_object();
      break;
    default:
      break;
  }
  json.end_object();
}

void DnsRecordWriter::message_end() noexcept {
  JsonLineWriter& json = dns_eve_.json();
  if (queries_open_ || section_open_) {
    json.end_array();
  }
  queries_open_ = false;
  section_open_ = false;
  json.end_object();
  emit(RecordType::kDns, dns_eve_.finish(), DnsCounter::kDnsRecords);
}

bool DnsRecordWriter::emit(RecordType type, std::string_view line, DnsCounter written) noexcept {
  if (line.empty()) {
    counters_.add(DnsCounter::kRecordsTooLarge);
    return false;
  }
  if (!sink_.on_record(type, line)) {
    counters_.add(DnsCounter::kRecordsDropped);
    return false;
  }
  counters_.add(written);
  return true;
}

}  // namespace misdirect::dataplane
