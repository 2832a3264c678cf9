// ReplayProgress: progress and summary lines of `misdirect replay`.
#include "control/replay_progress.h"

#include <cinttypes>

namespace misdirect::control {
namespace {

// Three significant digits with an SI prefix past ten thousand: 1234 → "1234", 8520311 → "8.52M".
std::string compact(double value) {
  char text[32];
  if (value < 10'000) {
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  static constexpr char kPrefixes[] = {'k', 'M', 'G', 'T', 'P'};
  std::size_t prefix = 0;
  value /= 1000;
  while (value >= 1000 && prefix + 1 < sizeof kPrefixes) {
    value /= 1000;
    ++prefix;
  }
  std::snprintf(text, sizeof text, value < 10 ? "%.2f%c" : value < 100 ? "%.1f%c" : "%.0f%c", value,
                kPrefixes[prefix]);
  return text;
}

// 512 → "512 B", 44100 → "44.1 kB".
std::string bytes_text(double bytes) {
  std::string text = compact(bytes);
  if (!text.empty() && text.back() >= 'A') {
    const char prefix = text.back();
    text.pop_back();
    return text + " " + prefix + "B";
  }
  return text + " B";
}

}  // namespace

std::string ReplayProgress::format_line(const ReplayTally& tally, uint64_t elapsed_ns) {
  const double seconds = static_cast<double>(elapsed_ns) / 1e9;
  std::string line = "replay: ";
  if (tally.file_count > 1) {
    line += std::to_string(tally.file_index) + "/" + std::to_string(tally.file_count) + " ";
  }
  line += tally.file_name;
  line += "  " + bytes_text(static_cast<double>(tally.stored_bytes_read));
  if (tally.stored_bytes_total > 0) {
    const uint64_t percent = tally.stored_bytes_read >= tally.stored_bytes_total
                                 ? 100
                                 : tally.stored_bytes_read * 100 / tally.stored_bytes_total;
    line += " of " + bytes_text(static_cast<double>(tally.stored_bytes_total)) + " (" + std::to_string(percent) + "%)";
  } else {
    line += " read";
  }
  line += "  " + compact(static_cast<double>(tally.packets)) + " packets";
  if (seconds > 0) {
    line += "  " + compact(static_cast<double>(tally.packets) / seconds) + " packets/s";
    line += "  " + bytes_text(static_cast<double>(tally.stored_bytes_read) / seconds) + "/s";
  }
  line += "  " + std::to_string(tally.alerts) + (tally.alerts == 1 ? " alert" : " alerts");
  if (tally.stored_bytes_total > 0 && tally.stored_bytes_read > 0 && seconds > 0 &&
      tally.stored_bytes_read < tally.stored_bytes_total) {
    const double rate = static_cast<double>(tally.stored_bytes_read) / seconds;
    const auto left = static_cast<uint64_t>(static_cast<double>(tally.stored_bytes_total - tally.stored_bytes_read) / rate);
    char eta[32];
    std::snprintf(eta, sizeof eta, "  ETA %" PRIu64 ":%02" PRIu64 ":%02" PRIu64, left / 3600, left / 60 % 60, left % 60);
    line += eta;
  }
  return line;
}

std::string ReplayProgress::format_summary(const ReplayTally& tally, uint64_t elapsed_ns) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f s", static_cast<double>(elapsed_ns) / 1e9);
  const auto counted = [](uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
  };
  return "replay: " + counted(tally.file_count, "file", "files") + ", " +
         counted(tally.packets, "packet", "packets") + ", " +
         counted(tally.smtp_sessions, "SMTP session", "SMTP sessions") + ", " +
         counted(tally.recipients, "recipient", "recipients") + ", " +
         counted(tally.alerts, "alert", "alerts") + " in " + seconds;
}

void ReplayProgress::update(const ReplayTally& tally, uint64_t now_ns) {
  if (out_ == nullptr || now_ns < start_ns_ + kQuietStartNs || now_ns < next_line_ns_) {
    return;
  }
  next_line_ns_ = now_ns + kIntervalNs;
  const std::string line = format_line(tally, now_ns - start_ns_);
  // Carriage return and erase-to-end-of-line: the line is rewritten in place.
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
  line_shown_ = true;
}

void ReplayProgress::end() {
  if (out_ != nullptr && line_shown_) {
    std::fputs("\r\x1b[K", out_);
    std::fflush(out_);
    line_shown_ = false;
  }
}

}  // namespace misdirect::control
