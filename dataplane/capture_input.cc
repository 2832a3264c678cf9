// CaptureInput: plain, gzip and zstd captures from files and standard input, as one FILE*.
#include "dataplane/capture_input.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace misdirect::dataplane {

CaptureMagic capture_magic(std::string_view first) noexcept {
  if (first.size() < kCaptureMagicBytes) {
    return CaptureMagic::kUnknown;
  }
  const auto is = [&](const char (&magic)[5]) { return first.substr(0, 4) == std::string_view(magic, 4); };
  // Classic pcap in either byte order, microsecond and nanosecond flavours.
  if (is("\xd4\xc3\xb2\xa1") || is("\xa1\xb2\xc3\xd4") || is("\x4d\x3c\xb2\xa1") || is("\xa1\xb2\x3c\x4d")) {
    return CaptureMagic::kPcap;
  }
  if (is("\x0a\x0d\x0d\x0a")) {
    return CaptureMagic::kPcapng;
  }
  if (first[0] == '\x1f' && first[1] == '\x8b') {
    return CaptureMagic::kGzip;
  }
  if (is("\x28\xb5\x2f\xfd")) {
    return CaptureMagic::kZstd;
  }
  return CaptureMagic::kUnknown;
}

std::string_view compression_name(CaptureCompression compression) noexcept {
  switch (compression) {
    case CaptureCompression::kNone: return "none";
    case CaptureCompression::kGzip: return "gzip";
    case CaptureCompression::kZstd: return "zstd";
  }
  return "none";
}

// The state of one compressed stream. Input is read from the stored file in blocks; output goes
// straight into the buffer libpcap's stdio stream asked to fill.
struct CaptureInput::Decompressor {
  static constexpr std::size_t kInputBytes = 128 * 1024;
  std::vector<char> input = std::vector<char>(kInputBytes);
  std::size_t input_begin = 0;
  std::size_t input_end = 0;
  bool stored_at_end = false;
  // gzip
  z_stream zlib{};
  bool zlib_ready = false;
  bool gzip_member_ended = false;  // the last member was complete and no byte of a next one seen
  // zstd
  ZSTD_DStream* zstd = nullptr;
  std::size_t zstd_hint = 1;  // ZSTD_decompressStream's last answer: 0 when a frame just ended

  ~Decompressor() {
    if (zlib_ready) {
      inflateEnd(&zlib);
    }
    if (zstd != nullptr) {
      ZSTD_freeDStream(zstd);
    }
  }
};

std::unique_ptr<CaptureInput> CaptureInput::open(const std::string& path, std::string& error) {
  std::unique_ptr<CaptureInput> input(new CaptureInput());
  input->name_ = path == "-" ? std::string("standard input") : path;
  if (path == "-") {
    // A duplicate, so that closing the stream leaves the process's standard input alone.
    const int fd = ::dup(STDIN_FILENO);
    input->stored_ = fd < 0 ? nullptr : ::fdopen(fd, "rb");
    if (input->stored_ == nullptr) {
      error = "standard input: cannot read: " + std::string(std::strerror(errno));
      if (fd >= 0) {
        ::close(fd);
      }
      return nullptr;
    }
  } else {
    input->stored_ = std::fopen(path.c_str(), "rb");
    if (input->stored_ == nullptr) {
      error = path + ": cannot open: " + std::strerror(errno);
      return nullptr;
    }
  }
  struct stat status {};
  if (::fstat(::fileno(input->stored_), &status) == 0) {
    if (S_ISDIR(status.st_mode)) {
      error = input->name_ + ": is a directory";
      return nullptr;
    }
    input->regular_file_ = S_ISREG(status.st_mode);
    if (input->regular_file_) {
      input->stored_size_ = static_cast<uint64_t>(status.st_size);
    }
  }

  input->prefix_size_ = std::fread(input->prefix_, 1, sizeof input->prefix_, input->stored_);
  input->stored_read_ = input->prefix_size_;
  const CaptureMagic magic = capture_magic(std::string_view(input->prefix_, input->prefix_size_));
  if (magic == CaptureMagic::kGzip) {
    input->compression_ = CaptureCompression::kGzip;
    input->decompressor_ = std::make_unique<Decompressor>();
    // 15 + 16: the gzip wrapper only (a raw zlib stream is not a capture format).
    if (inflateInit2(&input->decompressor_->zlib, 15 + 16) != Z_OK) {
      error = input->name_ + ": cannot start the gzip decompressor";
      return nullptr;
    }
    input->decompressor_->zlib_ready = true;
  } else if (magic == CaptureMagic::kZstd) {
    input->compression_ = CaptureCompression::kZstd;
    input->decompressor_ = std::make_unique<Decompressor>();
    input->decompressor_->zstd = ZSTD_createDStream();
    if (input->decompressor_->zstd == nullptr || ZSTD_isError(ZSTD_initDStream(input->decompressor_->zstd))) {
      error = input->name_ + ": cannot start the zstd decompressor";
      return nullptr;
    }
  }

  if (input->compression_ == CaptureCompression::kNone && input->regular_file_ &&
      std::fseek(input->stored_, 0, SEEK_SET) == 0) {
    // A plain file: libpcap reads it directly, nothing in between.
    input->prefix_size_ = 0;
    input->stream_ = input->stored_;
    return input;
  }
  input->stream_ = ::fopencookie(input.get(), "rb",
                                 cookie_io_functions_t{&CaptureInput::read_cookie, nullptr, nullptr,
                                                       &CaptureInput::close_cookie});
  if (input->stream_ == nullptr) {
    error = input->name_ + ": cannot open a stream: " + std::strerror(errno);
    return nullptr;
  }
  // libpcap reads a record header and then its bytes; a large buffer keeps the calls few.
  std::setvbuf(input->stream_, nullptr, _IOFBF, 256 * 1024);
  return input;
}

CaptureInput::~CaptureInput() {
  if (stream_ != nullptr && stream_ != stored_ && !stream_taken_) {
    std::fclose(stream_);
  }
  if (stored_ != nullptr && !(stream_ == stored_ && stream_taken_)) {
    std::fclose(stored_);
  }
}

std::FILE* CaptureInput::take_stream() noexcept {
  stream_taken_ = true;
  return stream_;
}

uint64_t CaptureInput::stored_bytes_read() const noexcept {
  if (stream_ == stored_) {
    const long offset = std::ftell(stored_);
    return offset < 0 ? 0 : static_cast<uint64_t>(offset);
  }
  return stored_read_;
}

long CaptureInput::read_cookie(void* cookie, char* buffer, std::size_t size) noexcept {
  return static_cast<CaptureInput*>(cookie)->read(buffer, size);
}

// The stored file belongs to the CaptureInput, which outlives the stream.
int CaptureInput::close_cookie(void*) noexcept { return 0; }

long CaptureInput::read(char* buffer, std::size_t size) noexcept {
  if (!error_.empty()) {
    errno = EIO;
    return -1;
  }
  if (!decompressor_) {
    // Plain bytes from a pipe: first those read to recognise the format, then the rest.
    std::size_t copied = 0;
    if (prefix_used_ < prefix_size_) {
      copied = std::min(size, prefix_size_ - prefix_used_);
      std::memcpy(buffer, prefix_ + prefix_used_, copied);
      prefix_used_ += copied;
      if (copied == size) {
        return static_cast<long>(copied);
      }
    }
    const std::size_t got = std::fread(buffer + copied, 1, size - copied, stored_);
    stored_read_ += got;
    if (got == 0 && copied == 0 && std::ferror(stored_)) {
      return -1;  // errno is fread's
    }
    return static_cast<long>(copied + got);
  }

  Decompressor& d = *decompressor_;
  while (true) {
    if (d.input_begin == d.input_end && !d.stored_at_end) {
      std::size_t got = 0;
      if (prefix_used_ < prefix_size_) {
        got = prefix_size_ - prefix_used_;
        std::memcpy(d.input.data(), prefix_ + prefix_used_, got);
        prefix_used_ = prefix_size_;
      }
      const std::size_t more = std::fread(d.input.data() + got, 1, d.input.size() - got, stored_);
      stored_read_ += more;
      got += more;
      if (more == 0 && std::ferror(stored_)) {
        error_ = name_ + ": reading the " + std::string(compression_name(compression_)) +
                 " stream failed: " + std::strerror(errno);
        errno = EIO;
        return -1;
      }
      if (got == 0) {
        d.stored_at_end = true;
      }
      d.input_begin = 0;
      d.input_end = got;
    }
    const std::size_t input_before = d.input_begin;
    std::size_t produced = 0;
    if (compression_ == CaptureCompression::kGzip) {
      if (d.gzip_member_ended && d.input_begin < d.input_end) {
        // Another member follows (gzip files may be concatenations of members).
        inflateReset(&d.zlib);
        d.gzip_member_ended = false;
      }
      d.zlib.next_in = reinterpret_cast<Bytef*>(d.input.data() + d.input_begin);
      d.zlib.avail_in = static_cast<uInt>(d.input_end - d.input_begin);
      d.zlib.next_out = reinterpret_cast<Bytef*>(buffer);
      d.zlib.avail_out = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
      const int result = inflate(&d.zlib, Z_NO_FLUSH);
      d.input_begin = d.input_end - d.zlib.avail_in;
      produced = reinterpret_cast<char*>(d.zlib.next_out) - buffer;
      if (result == Z_STREAM_END) {
        d.gzip_member_ended = true;
      } else if (result != Z_OK && result != Z_BUF_ERROR) {
        error_ = name_ + ": bad gzip data at compressed byte " +
                 std::to_string(stored_read_ - (d.input_end - d.input_begin)) + ": " +
                 (d.zlib.msg != nullptr ? d.zlib.msg : "inflate failed");
        errno = EIO;
        return -1;
      }
    } else {
      ZSTD_inBuffer in{d.input.data() + d.input_begin, d.input_end - d.input_begin, 0};
      ZSTD_outBuffer out{buffer, size, 0};
      const std::size_t result = ZSTD_decompressStream(d.zstd, &out, &in);
      if (ZSTD_isError(result)) {
        error_ = name_ + ": bad zstd data: " + ZSTD_getErrorName(result);
        errno = EIO;
        return -1;
      }
      if (in.pos > 0 || out.pos > 0) {
        // A call that did nothing after a frame's end answers for a next frame; keep the 0.
        d.zstd_hint = result;
      }
      d.input_begin += in.pos;
      produced = out.pos;
    }
    if (produced > 0) {
      return static_cast<long>(produced);
    }
    if (d.input_begin == d.input_end && d.stored_at_end) {
      const bool complete = compression_ == CaptureCompression::kGzip ? d.gzip_member_ended : d.zstd_hint == 0;
      if (!complete) {
        error_ = name_ + ": the " + std::string(compression_name(compression_)) +
                 " stream ends early (the compressed file is cut short)";
        errno = EIO;
        return -1;
      }
      return 0;
    }
    if (d.input_begin == input_before && d.input_begin != d.input_end) {
      // No input taken and no output made: cannot happen with room to write; refuse to spin.
      error_ = name_ + ": the " + std::string(compression_name(compression_)) + " decompressor stalled";
      errno = EIO;
      return -1;
    }
  }
}

}  // namespace misdirect::dataplane
