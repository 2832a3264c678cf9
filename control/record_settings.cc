// Record settings: hostname, random salt, and the check of --sensor-name.
#include "control/record_settings.h"

#include <sys/random.h>
#include <unistd.h>

#include <climits>
#include <random>

namespace misdirect::control {

std::string default_sensor_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) {
    return {};
  }
  return name;
}

uint64_t new_flow_id_salt() {
  uint64_t salt = 0;
  if (getrandom(&salt, sizeof(salt), 0) != static_cast<ssize_t>(sizeof(salt))) {
    std::random_device device;
    salt = (uint64_t{device()} << 32) | device();
  }
  return salt != 0 ? salt : 1;  // 0 means "draw one" to the flow table
}

std::string sensor_name_problem(std::string_view text) {
  if (text.empty() || text.size() > 255) {
    return "is not 1 to 255 bytes long";
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return "holds a control character";
    }
  }
  return {};
}

}  // namespace misdirect::control
