// EvidenceWriter: pcap files per alerting flow, rotated by count and total size.
#include "dataplane/output/evidence_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dataplane/decode/packet_view.h"

namespace misdirect::dataplane {

namespace {

constexpr uint32_t kPcapNanosecondMagic = 0xa1b23c4d;
constexpr uint32_t kSnapLength = 262144;
constexpr std::size_t kFileHeaderBytes = 24;
constexpr std::size_t kRecordHeaderBytes = 16;

// libpcap's LINKTYPE_* for each link type the decoder reads.
uint32_t pcap_link_type(uint8_t link) noexcept {
  switch (static_cast<LinkType>(link)) {
    case LinkType::kEthernet:
      return 1;
    case LinkType::kLinuxSll:
      return 113;
    case LinkType::kLinuxSll2:
      return 276;
    case LinkType::kRawIp:
      return 101;
    case LinkType::kIpv4:
      return 228;
    case LinkType::kIpv6:
      return 229;
    case LinkType::kNull:
      return 0;
  }
  return 1;
}

}  // namespace

std::string evidence_file_path(std::string_view directory, uint64_t flow_id) {
  std::string path(directory);
  if (!path.empty() && path.back() != '/') {
    path += '/';
  }
  path += std::to_string(flow_id);
  path += ".pcap";
  return path;
}

EvidenceWriter::EvidenceWriter(EvidenceWriterConfig config) : config_(std::move(config)) {}

EvidenceWriter::~EvidenceWriter() { close_all(); }

bool EvidenceWriter::check_directory(const std::string& directory, std::string& error) {
  struct stat info {};
  if (directory.empty()) {
    error = "empty directory name";
    return false;
  }
  if (::stat(directory.c_str(), &info) != 0) {
    error = directory + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISDIR(info.st_mode)) {
    error = directory + ": not a directory";
    return false;
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    error = directory + ": not writable: " + std::strerror(errno);
    return false;
  }
  return true;
}

std::size_t EvidenceWriter::drain(EvidenceRing& ring) {
  return ring.drain([this](const EvidenceEntry& entry, std::span<const uint8_t> bytes) { write(entry, bytes); });
}

bool EvidenceWriter::write_all(File& file, const void* data, std::size_t length) {
  const auto* at = static_cast<const uint8_t*>(data);
  while (length > 0) {
    const ssize_t written = ::write(file.fd, at, length);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      counters_.add(EvidenceFileCounter::kWriteErrors);
      file.failed = true;
      close(file);
      return false;
    }
    at += written;
    length -= static_cast<std::size_t>(written);
  }
  return true;
}

void EvidenceWriter::close(File& file) {
  if (file.fd >= 0) {
    ::close(file.fd);
    file.fd = -1;
    --open_files_;
  }
}

bool EvidenceWriter::ensure_open(File& file) {
  if (file.fd >= 0) {
    return true;
  }
  if (open_files_ >= config_.max_open_files) {
    // The least recently written file is closed; it is reopened to append when its flow writes.
    File* oldest = nullptr;
    for (auto& [flow_id, other] : files_) {
      if (other.fd >= 0 && (oldest == nullptr || other.last_use < oldest->last_use)) {
        oldest = &other;
      }
    }
    if (oldest != nullptr) {
      close(*oldest);
    }
  }
  const bool created = file.bytes == 0;
  const int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (created ? (O_CREAT | O_EXCL) : O_APPEND);
  file.fd = ::open(file.path.c_str(), flags, 0640);
  if (file.fd < 0) {
    counters_.add(EvidenceFileCounter::kOpenErrors);
    file.failed = true;
    return false;
  }
  ++open_files_;
  return true;
}

void EvidenceWriter::remove_oldest(EvidenceFileCounter reason, uint64_t keep_flow) {
  for (auto it = order_.begin(); it != order_.end(); ++it) {
    if (*it == keep_flow) {
      continue;
    }
    File& file = files_.at(*it);
    close(file);
    ::unlink(file.path.c_str());
    bytes_kept_ -= file.bytes;
    file.bytes = 0;
    file.removed = true;
    counters_.add(reason);
    order_.erase(it);
    return;
  }
}

EvidenceWriter::File* EvidenceWriter::file_for(const EvidenceEntry& entry) {
  const auto found = files_.find(entry.flow_id);
  if (found != files_.end()) {
    return &found->second;
  }
  if (config_.max_files == 0) {
    return nullptr;
  }
  while (order_.size() >= config_.max_files) {
    remove_oldest(EvidenceFileCounter::kFilesRemovedCount, entry.flow_id);
  }
  File& file = files_[entry.flow_id];
  file.path = evidence_file_path(config_.directory, entry.flow_id);
  file.link_type = entry.link_type;
  order_.push_back(entry.flow_id);
  return &file;
}

void EvidenceWriter::write(const EvidenceEntry& entry, std::span<const uint8_t> bytes) {
  if (entry.kind == EvidenceEntryKind::kFlowEnd) {
    const auto found = files_.find(entry.flow_id);
    if (found != files_.end()) {
      close(found->second);
      if (found->second.removed || found->second.failed) {
        // Nothing of it is on disk (or counted in order_) any more: forget it.
        if (!found->second.removed) {
          std::erase(order_, entry.flow_id);
          bytes_kept_ -= found->second.bytes;
        }
        files_.erase(found);
      }
    }
    return;
  }
  File* file = file_for(entry);
  if (file == nullptr || file->failed) {
    counters_.add(EvidenceFileCounter::kFramesFileFailed);
    return;
  }
  if (file->removed) {
    counters_.add(EvidenceFileCounter::kFramesFileRemoved);
    return;
  }
  const std::size_t need = (file->bytes == 0 ? kFileHeaderBytes : 0) + kRecordHeaderBytes + bytes.size();
  if (file->capped || file->bytes + need > config_.max_bytes) {
    // The file ends at its first frame that does not fit: a smaller later frame (an ACK) written
    // after a skipped one would leave a hole in the stream that replay reads as a gap.
    file->capped = true;
    counters_.add(EvidenceFileCounter::kFramesOverSize);
    return;
  }
  while (bytes_kept_ + need > config_.max_bytes && order_.size() > 1) {
    remove_oldest(EvidenceFileCounter::kFilesRemovedSize, entry.flow_id);
  }
  if (!ensure_open(*file)) {
    counters_.add(EvidenceFileCounter::kFramesFileFailed);
    return;
  }
  file->last_use = ++use_clock_;
  if (file->bytes == 0) {
    uint8_t header[kFileHeaderBytes] = {};
    const uint32_t magic = kPcapNanosecondMagic;
    const uint16_t major = 2;
    const uint16_t minor = 4;
    const uint32_t snap = kSnapLength;
    const uint32_t link = pcap_link_type(file->link_type);
    std::memcpy(header, &magic, 4);
    std::memcpy(header + 4, &major, 2);
    std::memcpy(header + 6, &minor, 2);
    std::memcpy(header + 16, &snap, 4);
    std::memcpy(header + 20, &link, 4);
    if (!write_all(*file, header, sizeof(header))) {
      counters_.add(EvidenceFileCounter::kFramesFileFailed);
      return;
    }
    file->bytes += sizeof(header);
    bytes_kept_ += sizeof(header);
    counters_.add(EvidenceFileCounter::kBytesWritten, sizeof(header));
    counters_.add(EvidenceFileCounter::kFilesCreated);
  }
  uint32_t record[4];
  record[0] = static_cast<uint32_t>(entry.timestamp_ns / 1'000'000'000ull);
  record[1] = static_cast<uint32_t>(entry.timestamp_ns % 1'000'000'000ull);
  record[2] = static_cast<uint32_t>(bytes.size());
  record[3] = entry.wire_length >= bytes.size() ? entry.wire_length : static_cast<uint32_t>(bytes.size());
  if (!write_all(*file, record, sizeof(record)) || !write_all(*file, bytes.data(), bytes.size())) {
    counters_.add(EvidenceFileCounter::kFramesFileFailed);
    return;
  }
  file->bytes += sizeof(record) + bytes.size();
  bytes_kept_ += sizeof(record) + bytes.size();
  counters_.add(EvidenceFileCounter::kFramesWritten);
  counters_.add(EvidenceFileCounter::kBytesWritten, sizeof(record) + bytes.size());
}

void EvidenceWriter::close_all() {
  for (auto& [flow_id, file] : files_) {
    close(file);
  }
}

}  // namespace misdirect::dataplane
