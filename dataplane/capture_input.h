// CaptureInput: the bytes of one capture as libpcap reads them (a FILE*), from a file or from
// standard input ("-"), plain or compressed with gzip or zstd.
//
// The compression is recognised by the stream's first bytes, not by the file's name, so that
// `cat x.pcap.gz | misdirect replay -` works as well as `misdirect replay x.pcap.gz`. A plain
// regular file is handed to libpcap as it is; everything else goes through a read-only
// fopencookie stream that inflates (zlib) or decompresses (libzstd) as libpcap reads. These are
// the well-kept libraries for the formats; replay's input is not the live hot path.
//
// A compressed stream that is corrupt or ends mid-frame makes the cookie's read fail; libpcap
// then stops with its own message and `error()` says what was wrong with the compressed bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace misdirect::dataplane {

enum class CaptureCompression : uint8_t { kNone, kGzip, kZstd };

// What the first bytes of a file say it is.
enum class CaptureMagic : uint8_t { kPcap, kPcapng, kGzip, kZstd, kUnknown };
CaptureMagic capture_magic(std::string_view first_bytes) noexcept;
// Bytes capture_magic needs to decide.
inline constexpr std::size_t kCaptureMagicBytes = 4;

std::string_view compression_name(CaptureCompression compression) noexcept;

class CaptureInput {
 public:
  // Opens `path` ("-": standard input). On failure returns null and sets `error` to one line
  // naming the input and the problem.
  static std::unique_ptr<CaptureInput> open(const std::string& path, std::string& error);
  ~CaptureInput();
  CaptureInput(const CaptureInput&) = delete;
  CaptureInput& operator=(const CaptureInput&) = delete;

  // The stream of capture bytes. Ownership passes to the caller (libpcap's pcap_fopen_offline
  // closes it in pcap_close); this object must outlive it, as the stream reads through it.
  std::FILE* take_stream() noexcept;

  CaptureCompression compression() const noexcept { return compression_; }
  // Size of the input as stored (compressed bytes for a compressed file); 0 when unknown (a pipe).
  uint64_t stored_size() const noexcept { return stored_size_; }
  // Stored bytes consumed so far: with stored_size, how far through the input reading is.
  uint64_t stored_bytes_read() const noexcept;
  // Empty unless the compressed bytes were bad or cut short.
  const std::string& error() const noexcept { return error_; }

 private:
  struct Decompressor;
  CaptureInput() = default;
  static long read_cookie(void* cookie, char* buffer, std::size_t size) noexcept;
  static int close_cookie(void* cookie) noexcept;
  long read(char* buffer, std::size_t size) noexcept;

  std::string name_;
  std::FILE* stored_ = nullptr;   // the file or pipe as stored; owned until take_stream on plain files
  std::FILE* stream_ = nullptr;   // what libpcap reads: stored_ itself, or the cookie stream
  bool stream_taken_ = false;
  bool regular_file_ = false;
  CaptureCompression compression_ = CaptureCompression::kNone;
  uint64_t stored_size_ = 0;
  uint64_t stored_read_ = 0;      // counted by the cookie; plain files use ftell instead
  std::string error_;
  // The bytes read to recognise the format, handed out before anything else.
  char prefix_[kCaptureMagicBytes] = {};
  std::size_t prefix_size_ = 0;
  std::size_t prefix_used_ = 0;
  std::unique_ptr<Decompressor> decompressor_;
};

}  // namespace misdirect::dataplane
