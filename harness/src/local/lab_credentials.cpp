// Per-sensor credentials for the local lab: the run's receiver takes --sensor-tokens, each
// kind of sensor gets its own token file, and Falco gets the @falco token in its URL, so a
// local report exercises the same authenticated path as the cluster.
#include <sys/random.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>

#include "lab.h"

namespace sandwatch::harness::local {
namespace {

Result<std::string> RandomHexToken() {
  std::array<unsigned char, 32> bytes{};
  if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    return MakeError("cannot read random bytes (getrandom) for a sensor token", errno);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Written owner-only: the tokens are the only thing that tells one sensor from another.
Status WriteSecret(const std::string& path, const std::string& text) {
  if (auto st = WriteFileAtomic(path, text); !st.ok()) return st;
  if (::chmod(path.c_str(), 0600) != 0) return MakeError("chmod " + path, errno);
  return OkStatus();
}

// Credential names and the sensor ids each covers ("runc-app" -> "runc-app-*").
constexpr std::array<std::pair<const char*, const char*>, 4> kSensorCredentials = {
    {{"host-view", "host-view-sensor"},
     {"host-app", "host-app-*"},
     {"runc-app", "runc-app-*"},
     {"kata-app", "kata-app-*"}}};

}  // namespace

Result<LabCredentials> WriteLabCredentials(const std::string& dir, const std::string& falco_token) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  LabCredentials c;
  c.dir = dir;
  std::string file = "# the lab receiver's --sensor-tokens (one credential per kind of sensor)\n";
  for (const auto& [name, ids] : kSensorCredentials) {
    auto token = RandomHexToken();
    if (!token.ok()) return token.error();
    if (auto st = WriteSecret(dir + "/" + name + ".token", *token + "\n"); !st.ok())
      return st.error();
    file += std::string(ids) + " " + *token + "\n";
  }
  auto falco = falco_token.empty() ? RandomHexToken() : Result<std::string>(falco_token);
  if (!falco.ok()) return falco.error();
  c.falco_token = *falco;
  file += "@falco " + *falco + "\n";
  c.sensor_tokens = dir + "/sensor-tokens";
  if (auto st = WriteSecret(c.sensor_tokens, file); !st.ok()) return st.error();
  return c;
}

std::string LabTokenFile(const LabCredentials& c, const std::string& name) {
  return c.dir + "/" + name + ".token";
}

Status CopyLabToken(const LabCredentials& c, const std::string& name, const std::string& to) {
  auto token = ReadFileToString(LabTokenFile(c, name), 4096);
  if (!token.ok()) return token.error();
  return WriteSecret(to, *token);
}

}  // namespace sandwatch::harness::local
