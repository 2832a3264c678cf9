// Directory arguments of `misdirect replay` expanded into their captures.
#include "control/capture_paths.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "dataplane/capture_input.h"

namespace misdirect::control {
namespace {

namespace fs = std::filesystem;

// Deeper trees than this are not capture archives; the bound keeps a strange tree finite.
constexpr int kMaxDepth = 32;

bool holds_capture(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  char first[dataplane::kCaptureMagicBytes] = {};
  file.read(first, sizeof first);
  const std::string_view bytes(first, static_cast<std::size_t>(file.gcount()));
  return dataplane::capture_magic(bytes) != dataplane::CaptureMagic::kUnknown;
}

// Appends the captures under `directory` to `out`; returns false (with `error`) when it cannot be listed.
bool walk(const fs::path& directory, bool recursive, int depth, std::vector<std::string>& out,
          std::string& error) {
  std::error_code code;
  fs::directory_iterator entries(directory, code);
  if (code) {
    error = directory.string() + ": cannot list the directory: " + code.message();
    return false;
  }
  std::vector<fs::directory_entry> sorted;
  for (const fs::directory_entry& entry : entries) {
    if (entry.path().filename().string().starts_with('.')) {
      continue;
    }
    sorted.push_back(entry);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path().filename() < b.path().filename(); });
  for (const fs::directory_entry& entry : sorted) {
    const bool is_directory = entry.is_directory(code) && !entry.is_symlink(code);
    if (is_directory) {
      if (recursive && depth < kMaxDepth && !walk(entry.path(), recursive, depth + 1, out, error)) {
        return false;
      }
      continue;
    }
    if (entry.is_regular_file(code) && holds_capture(entry.path())) {
      out.push_back(entry.path().string());
    }
  }
  return true;
}

}  // namespace

CapturePaths expand_capture_paths(const std::vector<std::string>& arguments, bool recursive) {
  CapturePaths result;
  for (const std::string& argument : arguments) {
    std::error_code code;
    if (argument == "-" || !fs::is_directory(argument, code)) {
      result.paths.push_back(argument);
      continue;
    }
    std::vector<std::string> found;
    std::string error;
    if (!walk(argument, recursive, 0, found, error)) {
      result.errors.push_back(error);
      continue;
    }
    if (found.empty()) {
      result.errors.push_back(argument + ": no captures in the directory" +
                              (recursive ? "" : " (--recursive reads its subdirectories too)"));
      continue;
    }
    result.paths.insert(result.paths.end(), found.begin(), found.end());
  }
  return result;
}

}  // namespace misdirect::control
