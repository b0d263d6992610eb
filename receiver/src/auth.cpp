#include "auth.h"

#include <string_view>

namespace sandwatch::receiver {

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
