// MessageHeaders and MessageHeaderParser: the identity of one email message — From, To, Cc,
// Subject, Message-ID, Date, X-Mailer and Reply-To — read from the top of its content (DATA or
// BDAT), so an analyst can find the message in the mail server's logs (Message-ID) and tell the
// user which mail went astray (Subject).
//
// The parser reads the header block only: up to the blank line that ends it, or the first line
// that is neither a header field nor a continuation, or 64 KiB, or the end of the content —
// whichever comes first. Folded lines are unfolded; values are decoded to UTF-8 by HeaderText
// (RFC 2047 encoded-words, invalid bytes replaced). The first occurrence of a field counts.
// From, To, Cc and Reply-To are address lists (RFC 5322 allows several authors in From): split on
// the commas between addresses (not those inside quotes, comments or angle brackets) before
// decoding, so a decoded display name holding a comma stays one address.
//
// Pure, resumable and allocation-free: feed() takes the content in any chunking (tested whole and
// byte by byte) and keeps its state and the values in fixed buffers. A field whose text exceeds
// its buffer is cut at a character boundary and counted as truncated.
//
// DATA content is dot-stuffed (RFC 5321 §4.5.2): with Framing::kDotStuffed the parser removes the
// extra dot at a line start, and a line holding only "." ends the content.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace misdirect::inspect {

enum class HeaderField : uint8_t {
  kFrom,
  kTo,
  kCc,
  kSubject,
  kMessageId,
  kDate,
  kXMailer,
  kReplyTo,
  kCount,
};
inline constexpr std::size_t kHeaderFieldCount = static_cast<std::size_t>(HeaderField::kCount);

// The header's name as it appears in a message, lowercase ("message-id").
std::string_view header_field_name(HeaderField field) noexcept;
// True for the address-list fields (From, To, Cc, Reply-To): their value is a list of addresses.
bool is_address_list(HeaderField field) noexcept;

// Why the header block ended.
enum class HeaderBlockEnd : uint8_t {
  kOpen,         // not yet: more content may follow
  kBlankLine,    // the empty line before the body
  kNotAHeader,   // a line that is not a header field (no body separator was sent)
  kByteLimit,    // 64 KiB of header block without an end
  kContentEnd,   // the content (or the flow) ended inside the header block
};
std::string_view header_block_end_name(HeaderBlockEnd end) noexcept;

// UTF-8 bytes kept per field, in HeaderField order.
inline constexpr std::array<uint16_t, kHeaderFieldCount> kHeaderFieldBytes = {1024, 2048, 2048, 1024,
                                                                              512,  128,  256,  1024};

// Where each field's text starts in MessageHeaders' one buffer.
constexpr std::size_t header_field_offset(HeaderField field) noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(field); ++i) {
    total += kHeaderFieldBytes[i];
  }
  return total;
}

class MessageHeaders {
 public:

  void clear() noexcept {
    lengths_.fill(0);
    present_ = 0;
    truncated_ = false;
    replaced_ = false;
    end_ = HeaderBlockEnd::kOpen;
    block_bytes_ = 0;
  }

  bool has(HeaderField field) const noexcept { return (present_ & bit(field)) != 0; }
  // The decoded value ("" when absent). For an address list, the addresses are separated by
  // '\0' (see next_list_item).
  std::string_view get(HeaderField field) const noexcept {
    return {text_ + offset(field), lengths_[index(field)]};
  }
  HeaderBlockEnd end() const noexcept { return end_; }
  bool complete() const noexcept { return end_ != HeaderBlockEnd::kOpen; }
  // A value was cut at its buffer, or the block at 64 KiB.
  bool truncated() const noexcept { return truncated_; }
  // Some bytes were not valid in their charset and became U+FFFD.
  bool replaced() const noexcept { return replaced_; }
  // Bytes of header block read (at most 64 KiB).
  uint32_t block_bytes() const noexcept { return block_bytes_; }

  // For the parser: the field's buffer, and what was written into it.
  std::span<char> buffer(HeaderField field) noexcept {
    return {text_ + offset(field), kHeaderFieldBytes[index(field)]};
  }
  void set_length(HeaderField field, std::size_t length) noexcept {
    lengths_[index(field)] = static_cast<uint16_t>(length);
    present_ |= bit(field);
  }
  void mark_truncated() noexcept { truncated_ = true; }
  void mark_replaced() noexcept { replaced_ = true; }
  void set_end(HeaderBlockEnd end, uint32_t block_bytes) noexcept {
    end_ = end;
    block_bytes_ = block_bytes;
  }

 private:
  static constexpr std::size_t index(HeaderField field) noexcept { return static_cast<std::size_t>(field); }
  static constexpr uint16_t bit(HeaderField field) noexcept { return static_cast<uint16_t>(1u << index(field)); }
  static constexpr std::size_t offset(HeaderField field) noexcept { return header_field_offset(field); }
  static constexpr std::size_t kTextBytes = header_field_offset(HeaderField::kCount);

  // Not initialised: only the bytes a value occupies are ever read.
  char text_[kTextBytes];
  std::array<uint16_t, kHeaderFieldCount> lengths_{};
  uint16_t present_ = 0;
  bool truncated_ = false;
  bool replaced_ = false;
  HeaderBlockEnd end_ = HeaderBlockEnd::kOpen;
  uint32_t block_bytes_ = 0;
};

// One address of a list value from MessageHeaders::get: takes it off the front of `list` and
// returns it; "" when the list is used up.
std::string_view next_list_item(std::string_view& list) noexcept;

// The addr-spec of one address as a header writes it: "Name <user@example.org>" and
// "user@example.org (Name)" both give "user@example.org"; "" when there is no '@' in it. With
// several angle-bracketed parts outside quotes (a decoded display name "x <a@b>" before the
// address), the last one is the address.
std::string_view address_in_mailbox(std::string_view mailbox) noexcept;

class MessageHeaderParser {
 public:
  static constexpr uint32_t kMaxBlockBytes = 65536;
  // One field's unfolded value before decoding; longer values are cut (counted as truncated).
  static constexpr std::size_t kMaxRawValueBytes = 4096;
  static constexpr std::size_t kMaxNameBytes = 32;

  enum class Framing : uint8_t { kRaw, kDotStuffed };

  // A new message: its values go to `out` (cleared here).
  void start(MessageHeaders& out, Framing framing) noexcept;
  // Content bytes in order, any chunking. Bytes after the header block are ignored cheaply.
  void feed(std::span<const uint8_t> bytes) noexcept;
  // The content ended (end of DATA/BDAT LAST, or the flow): a block still open ends here.
  void finish() noexcept;
  // True once the header block has ended (more content needs no feeding).
  bool done() const noexcept { return out_ == nullptr || out_->complete(); }

 private:
  enum class State : uint8_t {
    kLineStart,   // at the start of a line
    kDotLine,     // dot-stuffed: a line started with '.'
    kDotLineCr,   // dot-stuffed: ".\r"
    kBlankCr,     // a line that started with '\r'
    kName,        // reading a field name
    kNameSpace,   // whitespace after the name, before ':' (obsolete syntax, accepted)
    kValue,       // in a wanted field's value
    kValueCr,     // '\r' in a wanted field's value
    kSkipLine,    // in a line not kept (another field, or a continuation of one)
  };

  void line_start_byte(uint8_t byte) noexcept;
  void name_complete() noexcept;
  void complete_field() noexcept;
  void end_block(HeaderBlockEnd end) noexcept;
  void append_raw(char c) noexcept;

  MessageHeaders* out_ = nullptr;
  Framing framing_ = Framing::kRaw;
  State state_ = State::kLineStart;
  uint32_t block_bytes_ = 0;
  bool any_field_ = false;      // a field line was seen (a continuation line has something to continue)
  bool collecting_ = false;     // raw_ holds a wanted field's value
  bool raw_truncated_ = false;
  HeaderField field_ = HeaderField::kFrom;
  uint8_t name_length_ = 0;
  bool name_too_long_ = false;
  uint16_t raw_length_ = 0;
  char name_[kMaxNameBytes];
  char raw_[kMaxRawValueBytes];
};

}  // namespace misdirect::inspect
