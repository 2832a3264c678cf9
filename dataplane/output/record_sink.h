// RecordSink: where a worker's finished EVE records go (a file in replay, a ring to the control
// thread in the live sensor). The worker formats each record into its own fixed buffer.
#pragma once

#include <cstdint>
#include <string_view>

namespace misdirect::dataplane {

enum class RecordType : uint8_t { kAlert, kSmtp, kStats, kDns };

class RecordSink {
 public:
  // `json_line` is one complete JSON object without the trailing newline, valid only during the
  // call. Returns false when the record could not be taken (ring full); the worker counts it.
  virtual bool on_record(RecordType type, std::string_view json_line) noexcept = 0;

 protected:
  ~RecordSink() = default;
};

}  // namespace misdirect::dataplane
