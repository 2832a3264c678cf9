// Look-alike alert headers: signature texts and ids per role and kind.
#include "dataplane/output/lookalike_alert.h"

#include <array>
#include <utility>

#include "inspect/domain_name.h"

namespace misdirect::dataplane {
namespace {

constexpr int kKindCount = static_cast<int>(inspect::LookalikeKind::kEditDistance) + 1;

// "MISDIRECT <what> at a look-alike domain (<kind>)", precomputed: alerts write them verbatim.
constexpr std::array<std::string_view, inspect::kLookalikeRoleCount> kRoleText = {
    "MISDIRECT SMTP recipient at a look-alike domain",
    "MISDIRECT SMTP sender at a look-alike domain",
    "MISDIRECT message From: header at a look-alike domain",
    "MISDIRECT message Reply-To: header at a look-alike domain",
    "MISDIRECT DNS query for a look-alike domain",
    "MISDIRECT SMTP connection to an address a look-alike domain's DNS answer gave",
    "MISDIRECT TLS server name of a look-alike domain on an SMTP port",
};

struct SignatureTable {
  std::array<std::array<char, 128>, inspect::kLookalikeRoleCount * kKindCount> text{};
  std::array<uint8_t, inspect::kLookalikeRoleCount * kKindCount> length{};
};

SignatureTable make_table() {
  SignatureTable table;
  for (int role = 0; role < inspect::kLookalikeRoleCount; ++role) {
    for (int kind = 0; kind < kKindCount; ++kind) {
      const std::size_t index = static_cast<std::size_t>(role * kKindCount + kind);
      std::size_t length = 0;
      const auto put = [&](std::string_view part) {
        for (const char c : part) {
          table.text[index][length++] = c;
        }
      };
      put(kRoleText[static_cast<std::size_t>(role)]);
      put(" (");
      put(inspect::kind_name(static_cast<inspect::LookalikeKind>(kind)));
      put(")");
      table.length[index] = static_cast<uint8_t>(length);
    }
  }
  return table;
}

const SignatureTable& signatures() {
  static const SignatureTable table = make_table();
  return table;
}

}  // namespace

uint32_t lookalike_signature_id(inspect::LookalikeRole role, inspect::LookalikeKind kind) noexcept {
  return kLookalikeSignatureIdBase + 100 * static_cast<uint32_t>(role) + static_cast<uint32_t>(kind);
}

void write_lookalike_alert_header(JsonLineWriter& json, std::string_view app_proto,
                                  inspect::LookalikeRole role, inspect::LookalikeKind kind) noexcept {
  const SignatureTable& table = signatures();
  const std::size_t index = static_cast<std::size_t>(static_cast<int>(role) * kKindCount + static_cast<int>(kind));
  json.key("app_proto");
  json.plain_string(app_proto);
  json.key("alert");
  json.begin_object();
  json.key("action");
  json.plain_string("allowed");
  json.key("gid");
  json.number(1);
  json.key("signature_id");
  json.number(lookalike_signature_id(role, kind));
  json.key("rev");
  json.number(1);
  json.key("signature");
  json.plain_string(std::string_view(table.text[index].data(), table.length[index]));
  json.key("category");
  json.plain_string("Potential Corporate Privacy Violation");
  json.key("severity");
  json.number(1);
  json.end_object();
}

void write_unicode_forms(JsonLineWriter& json, std::string_view domain,
                         std::string_view protected_domain, std::string_view variant) noexcept {
  bool open = false;
  const std::pair<std::string_view, std::string_view> names[] = {
      {"domain", domain}, {"protected", protected_domain}, {"variant", variant}};
  for (const auto& [key, name] : names) {
    char form[inspect::kMaxUnicodeDomainBytes];
    const std::size_t length = inspect::unicode_form(name, form);
    if (length == 0) {
      continue;
    }
    if (!open) {
      json.key("unicode");
      json.begin_object();
      open = true;
    }
    json.key(key);
    json.string(std::string_view(form, length));
  }
  if (open) {
    json.end_object();
  }
}

void write_lookalike_verdict(JsonLineWriter& json, std::string_view protected_domain,
                             inspect::LookalikeKind kind, std::string_view variant) noexcept {
  json.key("protected");
  json.string(protected_domain);
  json.key("kind");
  json.plain_string(inspect::kind_name(kind));
  json.key("variant");
  json.string(variant);
}

}  // namespace misdirect::dataplane
