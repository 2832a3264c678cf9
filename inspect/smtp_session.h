// SmtpSession: the SMTP protocol machine for one TCP connection, fed both byte streams.
#pragma once

#include <cstdint>
#include <span>

#include "inspect/smtp_event.h"

namespace misdirect::inspect {

struct SmtpConfig {
  uint32_t max_line_bytes = 4096;      // longer lines are consumed and counted, never buffered
  uint32_t max_pending_commands = 64;  // pipelined commands awaiting replies
};

class SmtpSession {
 public:
  // `client_line_buffer` holds one client command line (its size is the line bound the caller
  // chose, normally config.max_line_bytes); the caller owns it so sessions can live in pools.
  // Server replies need no line buffer: only their codes and continuation marks are read.
  SmtpSession(const SmtpConfig& config, SmtpEventSink& sink,
              std::span<char> client_line_buffer) noexcept;

  // Bytes of one direction, in order. Any chunking yields the same events.
  void feed(Direction direction, std::span<const uint8_t> bytes) noexcept;
  // `byte_count` bytes of this direction were lost; resynchronise on the next line.
  void on_gap(Direction direction, uint64_t byte_count) noexcept;
  // The connection ended: ends the open transaction(s) with kSessionEnd.
  void finish() noexcept;

  bool encrypted() const noexcept;
};

}  // namespace misdirect::inspect
