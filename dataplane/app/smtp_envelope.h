// SmtpEnvelope: what an SMTP session has said about its mail transactions, as SmtpFlow keeps it —
// the HELO name, each transaction's MAIL FROM and end, each recipient with its reply and verdict —
// and SmtpRecordOutput, the one way that state leaves the flow (as records, written in output/).
//
// SmtpFlow decides *when* a record is due; the output decides what it looks like. The values here
// are views into the flow's bounded storage, valid only during the output call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/app/learned_address_book.h"
#include "dataplane/flow/flow_identity.h"
#include "inspect/lookalike_kind.h"
#include "inspect/lookalike_role.h"
#include "inspect/message_headers.h"
#include "inspect/smtp_event.h"

namespace misdirect::dataplane {

// A 2xx reply: the server took the recipient or the message.
inline bool is_positive_reply(uint16_t reply_code) noexcept { return reply_code >= 200 && reply_code < 300; }

// HELO and MAIL FROM values are kept up to this many bytes (longer ones are cut, counted).
inline constexpr std::size_t kSmtpMaxFieldBytes = 320;

struct SmtpBoundedText {
  std::array<char, kSmtpMaxFieldBytes> bytes;
  uint16_t length = 0;
  std::string_view view() const noexcept { return {bytes.data(), length}; }
};

// One mail transaction (MAIL FROM up to its end or the end of the session).
struct SmtpTransaction {
  bool in_use = false;
  bool ended = false;
  bool delivered = false;
  bool has_mail = false;
  uint32_t id = 0;
  uint16_t end_code = 0;
  inspect::TransactionEndReason reason = inspect::TransactionEndReason::kSessionEnd;
  // Roles other than recipient in which this transaction named a look-alike (sender, header-from,
  // reply-to; a bit per inspect::LookalikeRole): its record then lists the flow's look-alikes.
  uint8_t lookalike_roles = 0;
  SmtpBoundedText mail_from;
};

// One kept recipient. Its strings live back to back in the flow's text store from `text_offset`:
// address, canonical domain, protected domain, variant.
// No default member initialisers: the table is large and is filled entry by entry, so its
// untouched pages are never written.
struct SmtpRecipient {
  uint32_t transaction;
  uint32_t recipient;
  uint32_t text_offset;
  uint16_t address_length;
  uint16_t domain_length;
  uint16_t protected_length;
  uint16_t variant_length;
  uint16_t reply_code;
  uint16_t delivery_code;  // LMTP: the reply for this recipient after the content
  bool replied;
  bool delivery_seen;      // LMTP: delivery_code is set
  bool domain_valid;
  bool percent_hack;       // the domain kept is the percent hack's next hop, not the address's
  bool lookalike;
  bool alert_written;
  // Set by SmtpRecordOutput::keep_recipient: what the output wants to remember about the address
  // (the EVE writer: whether it needs escaping — checked once, written often).
  uint8_t output_hint;
  inspect::LookalikeKind kind;
  uint64_t generation;
};

// A recipient's view of its strings.
struct SmtpRecipientText {
  std::string_view address;
  std::string_view domain;
  std::string_view protected_domain;
  std::string_view variant;
};

// What one alert says about its recipient.
struct SmtpAlertFacts {
  SmtpRecipientText text;
  inspect::LookalikeKind kind;
  uint64_t generation;
  bool replied;
  uint16_t reply_code;
  uint32_t transaction;  // the recipient's transaction id (from 1)
  // LMTP sessions: the per-recipient reply after the content (delivered or not), when seen.
  bool lmtp = false;
  bool delivery_seen = false;
  uint16_t delivery_code = 0;
  // text.domain is the percent hack's next hop (user%army.ml@relay.example), not the address's.
  bool percent_hack = false;
};

// An alert for a look-alike in another role than recipient: sender (MAIL FROM), header-from and
// reply-to (the message's From: and Reply-To: headers), dns-learned (the server's address came
// from a look-alike's DNS answer), tls-sni (the ClientHello's server name).
struct SmtpRoleAlertFacts {
  inspect::LookalikeRole role = inspect::LookalikeRole::kSender;
  std::string_view domain;  // canonical
  std::string_view protected_domain;
  inspect::LookalikeKind kind = inspect::LookalikeKind::kTldSwap;
  std::string_view variant;
  uint64_t generation = 0;
  std::string_view sender;                 // kSender: the MAIL FROM address
  std::string_view reason;                 // kDnsLearned: "starttls", "implicit-tls", "no-recipients"
  const LearnedFact* evidence = nullptr;   // kDnsLearned: the answer that taught the address
  std::string_view server_name;            // kTlsSni
  uint16_t tls_version = 0;                // kTlsSni: the highest version the ClientHello offers
  // kHeaderFrom, kReplyTo: the address as the header gave it, its transaction (from 1) and the
  // message's header block (for the message's identity).
  std::string_view address;
  uint32_t transaction = 0;
  const inspect::MessageHeaders* message = nullptr;
};

// A look-alike an SMTP flow met, in which roles, and the role that alerted (-1: none).
struct SmtpLookalikeSeen {
  SmtpBoundedText variant;
  uint8_t roles = 0;  // bit per inspect::LookalikeRole
  int8_t alerted_role = -1;
};

// An encrypted session that met a look-alike outside its readable part: its one record at the end.
struct SmtpEncryptedSession {
  // The encrypted part is the flow's next transaction: its tx_id follows the plaintext ones.
  uint64_t tx_id = 0;
  bool implicit_tls = false;
  bool hello_seen = false;
  std::string_view server_name;
  uint16_t tls_version = 0;
  std::span<const SmtpLookalikeSeen> lookalikes;
  const LearnedFact* evidence = nullptr;
};
// A transaction's tx_id in records: Suricata counts a flow's transactions from 0, the SMTP
// machine from 1.
inline uint64_t tx_id_of(uint32_t transaction) noexcept { return transaction > 0 ? transaction - 1 : 0; }

// The session as the output sees it at the moment of a record.
struct SmtpEnvelope {
  const FlowIdentity* flow = nullptr;
  uint64_t timestamp_ns = 0;
  std::string_view helo;
  std::span<const SmtpRecipient> recipients;  // every kept recipient, in arrival order
  const char* text = nullptr;                 // the text store the recipients point into
  bool lmtp = false;                          // the session speaks LMTP (RFC 2033)
  // transaction() only: the header block of the transaction's message, when content was sent.
  const inspect::MessageHeaders* message = nullptr;
  // The look-alikes the flow met so far, in which roles, and the role that alerted on each.
  std::span<const SmtpLookalikeSeen> lookalikes;

  SmtpRecipientText text_of(const SmtpRecipient& recipient) const noexcept {
    const char* base = text + recipient.text_offset;
    SmtpRecipientText out;
    out.address = {base, recipient.address_length};
    base += recipient.address_length;
    out.domain = {base, recipient.domain_length};
    base += recipient.domain_length;
    out.protected_domain = {base, recipient.protected_length};
    base += recipient.protected_length;
    out.variant = {base, recipient.variant_length};
    return out;
  }
};

// Where SmtpFlow's records go. Implemented in output/ (SmtpRecordWriter); the calls are on the
// packet path: no allocation, no blocking.
class SmtpRecordOutput {
 public:
  // A recipient was just kept: the output may note what it needs in `recipient.output_hint`.
  virtual void keep_recipient(SmtpRecipient& recipient, std::string_view address) noexcept = 0;
  // One look-alike recipient's alert. `transaction` may be null (not kept); `kept` is the
  // recipient's entry (its transaction's recipients up to it are listed), or null for a recipient
  // beyond the storage bound.
  virtual void alert(const SmtpEnvelope& envelope, const SmtpTransaction* transaction,
                     const SmtpAlertFacts& facts, const SmtpRecipient* kept) noexcept = 0;
  // A transaction is over (ended and answered, forced out, or the session ended).
  virtual void transaction(const SmtpEnvelope& envelope, const SmtpTransaction& transaction) noexcept = 0;
  // One alert of another role than recipient.
  virtual void role_alert(const SmtpEnvelope& envelope, const SmtpRoleAlertFacts& facts) noexcept = 0;
  // An encrypted session's record at its end.
  virtual void encrypted_session(const SmtpEnvelope& envelope, const SmtpEncryptedSession& session) noexcept = 0;
  // The flow wrote `cap` alerts: no more will come from it (said once per flow).
  virtual void alert_cap_reached(const SmtpEnvelope& envelope, uint64_t cap) noexcept = 0;

 protected:
  ~SmtpRecordOutput() = default;
};

}  // namespace misdirect::dataplane
