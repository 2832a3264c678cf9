// Tests for CaptureInput: plain, gzip (one member or several) and zstd files read back byte for
// byte through the FILE* libpcap gets, and bad compressed bytes refused with a message.
#include <boost/test/unit_test.hpp>

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "dataplane/capture_input.h"

using misdirect::dataplane::capture_magic;
using misdirect::dataplane::CaptureCompression;
using misdirect::dataplane::CaptureInput;
using misdirect::dataplane::CaptureMagic;

namespace {

// A pcap-looking payload large enough to need many reads of the cookie's buffers.
std::string sample_bytes(std::size_t size) {
  std::string bytes = std::string("\xd4\xc3\xb2\xa1", 4);
  uint32_t state = 12345;
  while (bytes.size() < size) {
    state = state * 1103515245u + 12345u;
    // Repetitive enough to compress, varied enough to need real work.
    bytes += static_cast<char>((state >> 16) % 7 == 0 ? (state >> 8) & 0xff : 'a' + bytes.size() % 13);
  }
  return bytes;
}

std::string gzip_member(const std::string& data) {
  z_stream z{};
  BOOST_REQUIRE_EQUAL(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  BOOST_REQUIRE_EQUAL(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd_frame(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  BOOST_REQUIRE(!ZSTD_isError(size));
  out.resize(size);
  return out;
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/misdirect-capture-input-XXXXXX";
    const int fd = ::mkstemp(name);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE_EQUAL(::write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    ::close(fd);
    path_ = name;
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ReadBack {
  std::string bytes;
  bool failed = false;
  std::string error;
  CaptureCompression compression = CaptureCompression::kNone;
  uint64_t stored_read = 0;
};

ReadBack read_back(const std::string& path) {
  std::string error;
  std::unique_ptr<CaptureInput> input = CaptureInput::open(path, error);
  BOOST_REQUIRE_MESSAGE(input, error);
  ReadBack result;
  result.compression = input->compression();
  std::FILE* stream = input->take_stream();
  char buffer[1000];  // odd sizes: reads that end inside the decompressor's output
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, stream)) > 0;) {
    result.bytes.append(buffer, got);
  }
  result.failed = std::ferror(stream) != 0;
  result.stored_read = input->stored_bytes_read();
  std::fclose(stream);
  result.error = input->error();
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(capture_input)

BOOST_AUTO_TEST_CASE(magic_numbers) {
  BOOST_TEST((capture_magic(std::string("\xd4\xc3\xb2\xa1", 4)) == CaptureMagic::kPcap));
  BOOST_TEST((capture_magic(std::string("\xa1\xb2\x3c\x4d", 4)) == CaptureMagic::kPcap));
  BOOST_TEST((capture_magic(std::string("\x0a\x0d\x0d\x0a", 4)) == CaptureMagic::kPcapng));
  BOOST_TEST((capture_magic(std::string("\x1f\x8b\x08\x00", 4)) == CaptureMagic::kGzip));
  BOOST_TEST((capture_magic(std::string("\x28\xb5\x2f\xfd", 4)) == CaptureMagic::kZstd));
  BOOST_TEST((capture_magic("# a note") == CaptureMagic::kUnknown));
  BOOST_TEST((capture_magic(std::string("\xd4\xc3", 2)) == CaptureMagic::kUnknown));
}

BOOST_AUTO_TEST_CASE(plain_file_is_read_directly) {
  const std::string data = sample_bytes(300'000);
  TempFile file(data);
  const ReadBack back = read_back(file.path());
  BOOST_TEST((back.compression == CaptureCompression::kNone));
  BOOST_TEST(!back.failed);
  BOOST_TEST(back.bytes == data);
}

BOOST_AUTO_TEST_CASE(gzip_file) {
  const std::string data = sample_bytes(1'000'000);
  const std::string compressed = gzip_member(data);
  TempFile file(compressed);
  const ReadBack back = read_back(file.path());
  BOOST_TEST((back.compression == CaptureCompression::kGzip));
  BOOST_TEST(!back.failed);
  BOOST_TEST(back.error.empty());
  BOOST_TEST(back.bytes == data);
  BOOST_TEST(back.stored_read == compressed.size());
}

BOOST_AUTO_TEST_CASE(gzip_file_of_several_members) {
  const std::string data = sample_bytes(500'000);
  TempFile file(gzip_member(data.substr(0, 1000)) + gzip_member(data.substr(1000, 200'000)) +
                gzip_member(data.substr(201'000)));
  const ReadBack back = read_back(file.path());
  BOOST_TEST(!back.failed);
  BOOST_TEST(back.bytes == data);
}

BOOST_AUTO_TEST_CASE(zstd_file) {
  const std::string data = sample_bytes(1'000'000);
  TempFile file(zstd_frame(data.substr(0, 400'000)) + zstd_frame(data.substr(400'000)));
  const ReadBack back = read_back(file.path());
  BOOST_TEST((back.compression == CaptureCompression::kZstd));
  BOOST_TEST(!back.failed);
  BOOST_TEST(back.bytes == data);
}

BOOST_AUTO_TEST_CASE(cut_gzip_file_fails_and_says_so) {
  const std::string data = sample_bytes(400'000);
  const std::string compressed = gzip_member(data);
  TempFile file(compressed.substr(0, compressed.size() / 2));
  const ReadBack back = read_back(file.path());
  BOOST_TEST(back.failed);
  BOOST_TEST(back.error.find("cut short") != std::string::npos, back.error);
  BOOST_TEST(back.error.find(file.path()) != std::string::npos, back.error);
  BOOST_TEST(back.bytes.size() < data.size());
  BOOST_TEST(data.compare(0, back.bytes.size(), back.bytes) == 0, "what was read is the true prefix");
}

BOOST_AUTO_TEST_CASE(cut_zstd_file_fails_and_says_so) {
  const std::string compressed = zstd_frame(sample_bytes(400'000));
  TempFile file(compressed.substr(0, compressed.size() - 10));
  const ReadBack back = read_back(file.path());
  BOOST_TEST(back.failed);
  BOOST_TEST(back.error.find("cut short") != std::string::npos, back.error);
}

BOOST_AUTO_TEST_CASE(corrupt_gzip_bytes_are_named) {
  std::string compressed = gzip_member(sample_bytes(400'000));
  for (std::size_t i = compressed.size() / 3; i < compressed.size() / 3 + 40; ++i) {
    compressed[i] = static_cast<char>(compressed[i] ^ 0x5a);
  }
  TempFile file(compressed);
  const ReadBack back = read_back(file.path());
  BOOST_TEST(back.failed);
  BOOST_TEST(back.error.find("bad gzip data") != std::string::npos, back.error);
}

BOOST_AUTO_TEST_CASE(missing_file_and_directory_are_refused) {
  std::string error;
  BOOST_TEST(!CaptureInput::open("/nonexistent/capture.pcap", error));
  BOOST_TEST(error.find("/nonexistent/capture.pcap: cannot open") == 0, error);
  error.clear();
  BOOST_TEST(!CaptureInput::open("/tmp", error));
  BOOST_TEST(error == "/tmp: is a directory");
}

BOOST_AUTO_TEST_SUITE_END()
