// The captures one `misdirect replay` reads, in the order it reads them.
//
// Each argument is a capture file, "-" (standard input), or a directory. A directory stands for
// the captures in it in name order (bytewise, so `2024-01-02.pcap` comes before `2024-01-10.pcap`
// as an analyst names them); with `recursive`, its subdirectories are walked in the same order,
// depth first, without following symbolic links to directories. In a directory, a capture is a
// regular file whose first bytes are a pcap, pcapng, gzip or zstd magic number: notes, expected
// outputs and other files next to the captures are passed over. Hidden entries (".name") are
// skipped. A named file is always read, whatever it holds, so that a mistake is reported.
#pragma once

#include <string>
#include <vector>

namespace misdirect::control {

struct CapturePaths {
  std::vector<std::string> paths;
  // One line for each argument that gave nothing (an unreadable or empty directory).
  std::vector<std::string> errors;
};

CapturePaths expand_capture_paths(const std::vector<std::string>& arguments, bool recursive);

}  // namespace misdirect::control
