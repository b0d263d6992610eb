#include "sandwatch/receiver/credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "http_message.h"

namespace sandwatch::receiver {
namespace {

constexpr size_t kMaxFileBytes = 4 << 20;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// URL-unreserved characters, so a token also works in a /falco/TOKEN path.
bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Status CheckPattern(std::string_view p) {
  if (p == kFalcoCredentialId) return OkStatus();
  if (p[0] == '@') return MakeError("unknown credential \"" + std::string(p) + "\" (only @falco)");
  auto star = p.find('*');
  if (star != std::string_view::npos && star != p.size() - 1) {
    return MakeError("'*' is only allowed at the end of a sensor id (a prefix match)");
  }
  for (char c : p) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      return MakeError("the sensor id has a control character");
    }
  }
  return OkStatus();
}

Status CheckToken(std::string_view t) {
  if (t.size() < kMinTokenLength) {
    return MakeError("the token is shorter than " + std::to_string(kMinTokenLength) +
                     " characters (generate one with: openssl rand -hex 32)");
  }
  for (char c : t) {
    if (!IsTokenChar(c)) return MakeError("the token may only hold A-Z a-z 0-9 - . _ ~");
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<CredentialLine>> ParseSensorTokens(std::string_view text) {
  std::vector<CredentialLine> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    auto where = [&](const std::string& why) {
      return MakeError("line " + std::to_string(line_no) + ": " + why);
    };
    auto f = Fields(line);
    if (f.empty() || f[0][0] == '#') continue;
    if (f.size() != 2) {
      return where("expected \"SENSOR_ID TOKEN\" (two fields), found " + std::to_string(f.size()));
    }
    if (auto st = CheckPattern(f[0]); !st.ok()) return where(st.error().message);
    if (auto st = CheckToken(f[1]); !st.ok()) return where(st.error().message);
    out.push_back({std::string(f[0]), std::string(f[1])});
  }
  if (out.empty()) return MakeError("no credentials in the file (lines are \"SENSOR_ID TOKEN\")");
  return out;
}

bool PatternCovers(std::string_view pattern, std::string_view id) {
  if (pattern == kFalcoCredentialId) return false;
  if (!pattern.empty() && pattern.back() == '*') {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return id.size() >= prefix.size() && id.compare(0, prefix.size(), prefix) == 0;
  }
  return pattern == id;
}

bool SameSecret(std::string_view presented, std::string_view secret) {
  unsigned char diff = presented.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ (i < secret.size() ? secret[i] : 0));
  }
  return diff == 0;
}

bool Grant::MayUse(Endpoint endpoint) const {
  switch (kind) {
    case Kind::kNone:
      return false;
    case Kind::kOpen:
    case Kind::kShared:
      return true;
    case Kind::kScoped:
      return endpoint == Endpoint::kFalco ? falco : !patterns.empty();
  }
  return false;
}

bool Grant::Covers(std::string_view sensor_id) const {
  if (kind == Kind::kOpen || kind == Kind::kShared) return true;
  if (kind != Kind::kScoped) return false;
  for (const auto& p : patterns) {
    if (PatternCovers(p, sensor_id)) return true;
  }
  return false;
}

Result<std::unique_ptr<Credentials>> Credentials::Load(std::string shared_token,
                                                       std::string tokens_file) {
  if (!shared_token.empty() && !tokens_file.empty()) {
    return MakeError(
        "--token and --sensor-tokens: choose one (a shared token would let any sensor speak for "
        "every other)");
  }
  std::unique_ptr<Credentials> c(new Credentials(std::move(shared_token), std::move(tokens_file)));
  if (!c->tokens_file_.empty()) {
    auto table = c->ReadFile();
    if (!table.ok()) return MakeError("--sensor-tokens: " + table.error().message);
    c->table_ = std::move(*table);
  }
  return c;
}

Result<std::shared_ptr<const std::vector<CredentialLine>>> Credentials::ReadFile() const {
  std::ifstream in(tokens_file_, std::ios::binary);
  if (!in) return MakeError("cannot read " + tokens_file_ + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > kMaxFileBytes) return MakeError(tokens_file_ + ": larger than 4 MiB");
  auto lines = ParseSensorTokens(text);
  if (!lines.ok()) return MakeError(tokens_file_ + ": " + lines.error().message);
  return std::make_shared<const std::vector<CredentialLine>>(std::move(*lines));
}

Status Credentials::Reload() {
  if (tokens_file_.empty()) return OkStatus();
  auto table = ReadFile();
  if (!table.ok()) return table.error();
  std::lock_guard<std::mutex> lock(mu_);
  table_ = std::move(*table);
  return OkStatus();
}

Grant Credentials::Identify(std::string_view presented) const {
  Grant g;
  if (tokens_file_.empty()) {
    if (shared_.empty()) {
      g.kind = Grant::Kind::kOpen;
    } else if (!presented.empty() && SameSecret(presented, shared_)) {
      g.kind = Grant::Kind::kShared;
    }
    return g;
  }
  std::shared_ptr<const std::vector<CredentialLine>> table;
  {
    std::lock_guard<std::mutex> lock(mu_);
    table = table_;
  }
  if (presented.empty() || !table) return g;
  for (const auto& line : *table) {  // no early exit: every entry costs the same
    if (!SameSecret(presented, line.token)) continue;
    g.kind = Grant::Kind::kScoped;
    if (line.pattern == kFalcoCredentialId) {
      g.falco = true;
    } else {
      g.patterns.push_back(line.pattern);
    }
  }
  return g;
}

std::string Credentials::Mode() const {
  if (!tokens_file_.empty()) return "per-sensor";
  return shared_.empty() ? "open" : "shared";
}

size_t Credentials::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_ ? table_->size() : 0;
}

std::string PresentedToken(std::string_view authorization_header, std::string_view path_token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization_header.size() > kPrefix.size() &&
      authorization_header.compare(0, kPrefix.size(), kPrefix) == 0) {
    return std::string(authorization_header.substr(kPrefix.size()));
  }
  return std::string(path_token);
}

bool BearerMatches(const HttpRequest& req, const std::string& token) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (auth.size() <= kPrefix.size() || auth.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  return SameSecret(auth.substr(kPrefix.size()), token);
}

std::string FalcoPathToken(const std::string& path) {
  constexpr std::string_view kPrefix = "/falco/";
  if (path.size() <= kPrefix.size() || path.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  std::string token = path.substr(kPrefix.size());
  for (char ch : token) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '~' || ch == '-';
    if (!ok) return "";
  }
  return token;
}

Grant IngestGrant(const Credentials& credentials, const HttpRequest& req) {
  return credentials.Identify(
      PresentedToken(req.get_header_value("Authorization"), FalcoPathToken(req.path)));
}

bool ReadAllowed(const ReceiverConfig& config, const HttpRequest& req) {
  const auto& ui = config.ui_token;
  if (ui.empty()) return true;
  if (BearerMatches(req, ui)) return true;
  if (!config.token.empty() && BearerMatches(req, config.token)) return true;
  // EventSource cannot send headers, so the UI passes ?token= on its requests.
  return req.has_param("token") && SameSecret(req.get_param_value("token"), ui);
}

}  // namespace sandwatch::receiver
