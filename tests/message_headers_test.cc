// MessageHeaderParser and HeaderText tests: every message runs whole, byte by byte and in seeded
// random chunks, and all three must give the same values.
#include "inspect/message_headers.h"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/header_text.h"

namespace misdirect::inspect {
namespace {

using Framing = MessageHeaderParser::Framing;

// Every field, the end and the flags, rendered for comparison; list items joined by " | ".
std::string render(const MessageHeaders& headers) {
  std::string out;
  for (std::size_t i = 0; i < kHeaderFieldCount; ++i) {
    const auto field = static_cast<HeaderField>(i);
    if (!headers.has(field)) {
      continue;
    }
    out += std::string(header_field_name(field)) + "=";
    std::string_view value = headers.get(field);
    if (is_address_list(field)) {
      bool first = true;
      for (std::string_view item = next_list_item(value); !item.empty(); item = next_list_item(value)) {
        out += first ? "" : " | ";
        out += std::string(item);
        first = false;
      }
    } else {
      out += std::string(value);
    }
    out += "\n";
  }
  out += "end=" + std::string(header_block_end_name(headers.end()));
  out += headers.truncated() ? " truncated" : "";
  out += headers.replaced() ? " replaced" : "";
  return out;
}

// Parses `content` whole, byte by byte and in random chunks; checks they agree; returns the
// rendering. `finish`: the content ends after these bytes.
std::string parse(std::string_view content, Framing framing = Framing::kRaw, bool finish = true) {
  const auto run = [&](const std::vector<std::size_t>& cuts) {
    auto headers = std::make_unique<MessageHeaders>();
    auto parser = std::make_unique<MessageHeaderParser>();
    parser->start(*headers, framing);
    std::size_t at = 0;
    for (const std::size_t cut : cuts) {
      parser->feed({reinterpret_cast<const uint8_t*>(content.data()) + at, cut - at});
      at = cut;
    }
    parser->feed({reinterpret_cast<const uint8_t*>(content.data()) + at, content.size() - at});
    if (finish) {
      parser->finish();
    }
    return render(*headers);
  };
  const std::string whole = run({});
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < content.size(); ++i) {
    every_byte.push_back(i);
  }
  BOOST_TEST(run(every_byte) == whole, "byte by byte differs from whole");
  std::mt19937 random(12345);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < content.size(); ++i) {
      if (random() % 7 == 0) {
        cuts.push_back(i);
      }
    }
    BOOST_TEST(run(cuts) == whole, "random chunking differs from whole");
  }
  return whole;
}

std::string decode(std::string_view raw, std::size_t room = 256) {
  std::vector<char> buffer(room);
  const HeaderTextResult result = decode_header_text(raw, buffer);
  return std::string(buffer.data(), result.length) + (result.truncated ? "[cut]" : "");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(message_headers)

BOOST_AUTO_TEST_CASE(a_plain_message_gives_its_identity) {
  const std::string message =
      "Received: from a.example by b.example; Tue, 1 Dec 2026 10:00:00 +0000\r\n"
      "From: Alice Example <alice@example.org>\r\n"
      "To: bob@army.ml, \"Carol, C.\" <carol@amry.mil>\r\n"
      "Cc: dave@example.org\r\n"
      "Subject: Quarterly figures\r\n"
      "Message-ID: <20261201.abc123@example.org>\r\n"
      "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
      "X-Mailer: Example Mail 1.0\r\n"
      "Reply-To: alice@example.org\r\n"
      "\r\n"
      "Subject: not a header, the body\r\n";
  BOOST_TEST(parse(message) ==
             "from=Alice Example <alice@example.org>\n"
             "to=bob@army.ml | \"Carol, C.\" <carol@amry.mil>\n"
             "cc=dave@example.org\n"
             "subject=Quarterly figures\n"
             "message-id=<20261201.abc123@example.org>\n"
             "date=Tue, 1 Dec 2026 10:00:00 +0000\n"
             "x-mailer=Example Mail 1.0\n"
             "reply-to=alice@example.org\n"
             "end=blank_line");
}

BOOST_AUTO_TEST_CASE(folded_lines_are_unfolded_and_names_are_caseless) {
  BOOST_TEST(parse("SUBJECT: a long\r\n\tsubject\r\n  that folds\r\nmessage-id :\r\n <x@y>\r\n\r\n") ==
             "subject=a long\tsubject  that folds\nmessage-id=<x@y>\nend=blank_line");
}

BOOST_AUTO_TEST_CASE(bare_line_feeds_end_lines_too) {
  BOOST_TEST(parse("Subject: lf only\nTo: a@b.c\n\nbody\n") == "to=a@b.c\nsubject=lf only\nend=blank_line");
}

BOOST_AUTO_TEST_CASE(the_first_occurrence_of_a_field_counts) {
  BOOST_TEST(parse("Subject: first\r\nSubject: second\r\n\r\n") == "subject=first\nend=blank_line");
}

BOOST_AUTO_TEST_CASE(encoded_words_are_decoded_to_utf8) {
  BOOST_TEST(parse("Subject: =?UTF-8?B?UmVjaG51bmcgZsO8ciBEZXplbWJlcg==?=\r\n"
                   "From: =?iso-8859-1?q?J=F6rg_M=FCller?= <jm@example.de>\r\n\r\n") ==
             "from=J\xC3\xB6rg M\xC3\xBCller <jm@example.de>\nsubject=Rechnung f\xC3\xBCr Dezember\nend=blank_line");
}

BOOST_AUTO_TEST_CASE(a_decoded_comma_does_not_split_an_address) {
  BOOST_TEST(parse("To: =?utf-8?q?Doe=2C_John?= <john@example.org>, jane@example.org\r\n\r\n") ==
             "to=Doe, John <john@example.org> | jane@example.org\nend=blank_line");
}

BOOST_AUTO_TEST_CASE(from_is_an_address_list_too) {
  // Several authors (RFC 5322 mailbox-list), a quoted comma, an encoded display name whose decoded
  // text holds a comma, a folded line between the addresses.
  BOOST_TEST(parse("From: \"Ops, Team\" <ops@army.ml>,\r\n =?UTF-8?Q?Smith=2C_J?= <js@amry.mil>, carol@example.org\r\n"
                   "Reply-To: =?UTF-8?B?Qm9i?= <bob@navy.ml>\r\n\r\n") ==
             "from=\"Ops, Team\" <ops@army.ml> | Smith, J <js@amry.mil> | carol@example.org\n"
             "reply-to=Bob <bob@navy.ml>\n"
             "end=blank_line");
}

BOOST_AUTO_TEST_CASE(dot_stuffed_content_is_unstuffed_and_the_terminator_ends_it) {
  // "..X-Dots" is the header ".X-Dots"; the lone "." ends the content with no blank line.
  BOOST_TEST(parse("Subject: dots\r\n..X-Dots: yes\r\nTo: a@b.c\r\n.\r\n", Framing::kDotStuffed) ==
             "to=a@b.c\nsubject=dots\nend=content_end");
  // Without dot-stuffing (BDAT) a line "." is not a header field.
  BOOST_TEST(parse("Subject: raw\r\n.\r\n", Framing::kRaw) == "subject=raw\nend=not_a_header");
}

BOOST_AUTO_TEST_CASE(a_line_that_is_not_a_header_ends_the_block) {
  BOOST_TEST(parse("Subject: s\r\nthis is body text without a blank line\r\nTo: x@y.z\r\n\r\n") ==
             "subject=s\nend=not_a_header");
  BOOST_TEST(parse("Hello, no headers at all\r\n") == "end=not_a_header");
  BOOST_TEST(parse(" continuation of nothing\r\n") == "end=not_a_header");
}

BOOST_AUTO_TEST_CASE(content_that_ends_inside_the_block_keeps_what_was_read) {
  BOOST_TEST(parse("Subject: cut short\r\nTo: a@b.c") == "to=a@b.c\nsubject=cut short\nend=content_end");
  BOOST_TEST(parse("Subject: open", Framing::kRaw, false) == "end=open");
}

BOOST_AUTO_TEST_CASE(the_block_is_read_up_to_64_kib) {
  std::string message = "Subject: before\r\n";
  while (message.size() < 70'000) {
    message += "X-Filler: " + std::string(90, 'f') + "\r\n";
  }
  message += "Message-ID: <after@example.org>\r\n\r\n";
  BOOST_TEST(parse(message) == "subject=before\nend=byte_limit truncated");
}

BOOST_AUTO_TEST_CASE(a_value_longer_than_its_buffer_is_cut_at_a_character) {
  std::string subject;
  for (int i = 0; i < 600; ++i) {
    subject += "\xC3\xA9";  // é, two bytes: 1,200 bytes against a 1,024-byte buffer
  }
  const std::string rendered = parse("Subject: " + subject + "\r\n\r\n");
  BOOST_TEST(rendered == "subject=" + subject.substr(0, 1024) + "\nend=blank_line truncated");
}

BOOST_AUTO_TEST_CASE(invalid_bytes_are_replaced) {
  BOOST_TEST(parse("Subject: caf\xE9 \xFF ok\r\n\r\n") ==
             "subject=caf\xEF\xBF\xBD \xEF\xBF\xBD ok\nend=blank_line replaced");
}

BOOST_AUTO_TEST_CASE(header_text_cases) {
  // Whitespace between adjacent encoded-words goes; between a word and plain text it stays.
  BOOST_TEST(decode("=?utf-8?q?a?= =?utf-8?q?b?=") == "ab");
  BOOST_TEST(decode("=?utf-8?q?a?=\t =?utf-8?q?b?= c") == "ab c");
  BOOST_TEST(decode("x =?utf-8?q?a?=") == "x a");
  // A character split across two B words is joined before conversion.
  BOOST_TEST(decode("=?UTF-8?B?w6k=?= =?UTF-8?B?4oKs?=") == "\xC3\xA9\xE2\x82\xAC");
  BOOST_TEST(decode("=?UTF-8?B?4o?= =?UTF-8?Q?=82=AC?=") == "\xE2\x82\xAC");
  // Charsets: Windows-1252 and ISO-8859-15 euro signs; an RFC 2231 language suffix.
  BOOST_TEST(decode("=?windows-1252?q?=80?=") == "\xE2\x82\xAC");
  BOOST_TEST(decode("=?ISO-8859-15?Q?=A4?=") == "\xE2\x82\xAC");
  BOOST_TEST(decode("=?utf-8*en?q?hi?=") == "hi");
  // Unknown charset: valid UTF-8 kept, other bytes replaced.
  BOOST_TEST(decode("=?x-unknown?q?ok_=C3=A9_=FF?=") == "ok \xC3\xA9 \xEF\xBF\xBD");
  // Not encoded-words: kept as text.
  BOOST_TEST(decode("=?utf-8?x?abc?=") == "=?utf-8?x?abc?=");
  BOOST_TEST(decode("=?utf-8?q?no end") == "=?utf-8?q?no end");
  BOOST_TEST(decode("price =? 5") == "price =? 5");
  // NUL never survives (it separates list items).
  BOOST_TEST(decode("=?utf-8?q?a=00b?=") == "a\xEF\xBF\xBD" "b");
  // Overlong and surrogate encodings are invalid.
  BOOST_TEST(decode("\xC0\xAF \xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  // The output bound cuts between characters.
  BOOST_TEST(decode("\xC3\xA9\xC3\xA9", 3) == "\xC3\xA9[cut]");
}

BOOST_AUTO_TEST_CASE(addresses_are_found_in_mailboxes) {
  BOOST_TEST(address_in_mailbox("Alice <alice@example.org>") == "alice@example.org");
  BOOST_TEST(address_in_mailbox("\"Bob <not@this>\" <bob@example.org>") == "bob@example.org");
  BOOST_TEST(address_in_mailbox("carol@example.org (Carol)") == "carol@example.org");
  BOOST_TEST(address_in_mailbox("dave@example.org") == "dave@example.org");
  BOOST_TEST(address_in_mailbox("Undisclosed recipients:;") == "");
  BOOST_TEST(address_in_mailbox("Name <>") == "");
  // A decoded display name with brackets of its own: the last bracketed part is the address.
  BOOST_TEST(address_in_mailbox("CEO <ceo@army.ml> <real@example.org>") == "real@example.org");
  // A decoded display name with a lone quote: the brackets are found with quotes ignored.
  BOOST_TEST(address_in_mailbox("5\" screen <seller@amry.mil>") == "seller@amry.mil");
  BOOST_TEST(address_in_mailbox("\"a <x@y.z>\" bare") == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
