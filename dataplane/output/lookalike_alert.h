// Look-alike alert headers: the Suricata `alert` object every misdirect alert opens with, for each
// role a look-alike can have (recipient, sender, header-from, reply-to, dns-query, dns-learned,
// tls-sni) and each kind — one signature id per (role, kind), so that rules and dashboards built
// on signature ids tell them apart.
//
// signature_id = 9,900,001 + 100 × role + kind. Recipient alerts (role 0) keep the ids they always
// had.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "dataplane/output/json_line_writer.h"
#include "inspect/lookalike_kind.h"
#include "inspect/lookalike_role.h"

namespace misdirect::dataplane {

inline constexpr uint32_t kLookalikeSignatureIdBase = 9'900'001;

// Alert records written, by look-alike kind (every role): one per worker, counted where each alert
// record is handed to the sink, shown in stats as misdirect.alerts_by_kind.<kind name>.
using AlertKindCounts = std::array<uint64_t, inspect::kLookalikeKindCount>;
inline constexpr std::string_view kAlertKindHelp = "alert records written for a look-alike of this kind (every role)";

uint32_t lookalike_signature_id(inspect::LookalikeRole role, inspect::LookalikeKind kind) noexcept;

// Writes "app_proto" and the "alert" object.
void write_lookalike_alert_header(JsonLineWriter& json, std::string_view app_proto,
                                  inspect::LookalikeRole role, inspect::LookalikeKind kind) noexcept;

// Writes a "unicode" object (inside the open `misdirect` object) with the Unicode form of each of
// the alert's names that holds an A-label — "domain", "protected", "variant" — so an analyst
// reads "аrmy.mil" beside "xn--rmy-5cd.mil". Writes nothing when none holds one.
void write_unicode_forms(JsonLineWriter& json, std::string_view domain,
                         std::string_view protected_domain, std::string_view variant) noexcept;

// Writes "protected", "kind" and "variant" members (inside an open object).
void write_lookalike_verdict(JsonLineWriter& json, std::string_view protected_domain,
                             inspect::LookalikeKind kind, std::string_view variant) noexcept;

}  // namespace misdirect::dataplane
