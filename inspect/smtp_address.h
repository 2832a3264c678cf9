// SmtpPath: the mailbox, domain and parameters of a MAIL FROM / RCPT TO argument.
#pragma once

#include <string_view>

namespace misdirect::inspect {

enum class SmtpPathError : uint8_t {
  kOk,
  kMissing,         // nothing after the colon
  kUnterminated,    // '<' without its '>' (or an unterminated quoted string)
  kBadSourceRoute,  // "<@relay" without the ':' that ends the route
};

// `address` is the mailbox without brackets, source route or parameters ("" for the null path
// "<>"); `domain` is the part after the last '@' outside a quoted local part, exactly as sent
// (trailing dot kept: the normaliser strips it), "" when there is none ("<postmaster>").
struct SmtpPath {
  std::string_view address;
  std::string_view domain;
  std::string_view parameters;
  SmtpPathError error = SmtpPathError::kOk;
};

// Parses what follows "FROM:" or "TO:". Tolerates leading spaces ("TO: <a@b>"), a bare address
// without brackets ("TO:a@b"), source routes ("<@r1,@r2:user@dom>") and quoted local parts
// containing '@' or '>' ("\"a@b\"@dom").
SmtpPath parse_smtp_path(std::string_view argument) noexcept;

// The percent hack: a relay that is the destination of `user%host@relay` rewrites it to
// `user@host` and sends it on (Sendmail, Exim, and Postfix's default `allow_percent_hack`), so the
// mail goes to `host`. Returns what follows the last '%' of the local part of `address` (whose
// domain part, as sent, is `domain`; quotes around the local part are ignored), or "" when the
// local part has no '%' or nothing after it. Not validated: the caller normalises it.
std::string_view percent_hack_domain(std::string_view address, std::string_view domain) noexcept;

// True when `parameters` holds the ESMTP keyword `keyword` (case-insensitive, "KEY" or "KEY=…").
bool has_esmtp_keyword(std::string_view parameters, std::string_view keyword) noexcept;

// ASCII case-insensitive equality.
bool equals_caseless(std::string_view a, std::string_view b) noexcept;

}  // namespace misdirect::inspect
