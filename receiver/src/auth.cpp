#include "auth.h"

#include <string_view>

namespace sandwatch::receiver {

bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool BearerMatches(const HttpRequest& req, const std::string& token) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (auth.size() <= kPrefix.size() || auth.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  return SameSecret(auth.substr(kPrefix.size()), token);
}

bool IngestAllowed(const ReceiverConfig& config, const HttpRequest& req) {
  return config.token.empty() || BearerMatches(req, config.token);
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
