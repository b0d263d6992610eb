// Who may call what: the one place the receiver decides about credentials, for posting
// (the grant) and for reading (the UI token).
//
// Three modes: open (no --token, no --sensor-tokens: every POST is taken), shared (--token:
// one token for every sender) and per-sensor (--sensor-tokens FILE). The file holds one
// credential per line, "SENSOR_ID TOKEN":
//
//   host-view-sensor   8c1f0e...        an exact sensor.id
//   kata-app-*         41aa9d...        a trailing '*' matches every id with that prefix
//   @falco             d93b27...        Falco / Falcosidekick endpoints (POST /falco, /, /api/v1/)
//
// Blank lines and lines starting with '#' are ignored. A token may appear on several lines
// (it then covers each of those ids) and an id may have several tokens (rotation).
//
// The HTTP layer uses it in two steps: Identify() as soon as the headers are in (an unknown
// token is a 401 before any body is read), then, once the body is parsed, Grant::Covers()
// for the sensor.id of every event or heartbeat (a 403 when one is not covered).
//
// Reading (GET of the API, stream and metrics) is open without --ui-token, else needs the
// UI token (header or ?token=) or the ingest token: ReadAllowed().
//
// Thread-safety: every method may be called concurrently. Reload() swaps in a new table
// atomically; a Grant holds what it needs and stays valid across reloads.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/receiver/config.h"

namespace sandwatch::receiver {

struct HttpRequest;  // the receiver's parsed request (internal, http_message.h)

// The id that names the Falco credential in a --sensor-tokens file.
inline constexpr std::string_view kFalcoCredentialId = "@falco";
// Generated tokens are 32 random bytes in hex; shorter ones in a file are refused.
inline constexpr size_t kMinTokenLength = 16;

struct CredentialLine {
  std::string pattern;  // "sensor-a", "kata-app-*" or "@falco"
  std::string token;
};

// Parses the text of a --sensor-tokens file. An error names the line and the reason; the
// token itself never appears in it.
Result<std::vector<CredentialLine>> ParseSensorTokens(std::string_view text);

// True when `id` matches `pattern` (exact, or prefix when the pattern ends in '*').
bool PatternCovers(std::string_view pattern, std::string_view id);

// Compares two secrets in time that depends only on the length of `presented`.
bool SameSecret(std::string_view presented, std::string_view secret);

enum class Endpoint { kSensor, kFalco };  // /events and /heartbeat, or the Falco ones

// What one presented token may do.
struct Grant {
  enum class Kind { kNone, kOpen, kShared, kScoped };
  Kind kind = Kind::kNone;
  bool falco = false;                 // kScoped: the token is an @falco credential
  std::vector<std::string> patterns;  // kScoped: the sensor ids it may speak for

  bool Authenticated() const { return kind != Kind::kNone; }
  // Whether the token may post to that kind of endpoint at all.
  bool MayUse(Endpoint endpoint) const;
  // Whether the token may speak for `sensor_id` (only meaningful for Endpoint::kSensor).
  bool Covers(std::string_view sensor_id) const;
};

class Credentials {
 public:
  // shared_token: --token ("" = none). tokens_file: --sensor-tokens ("" = none). Both
  // together are refused: the shared token would let any sensor speak for every other.
  // An unreadable or bad file is an error naming the file and line.
  static Result<std::unique_ptr<Credentials>> Load(std::string shared_token,
                                                   std::string tokens_file);

  // Re-reads the tokens file. On any error the current credentials stay in force and the
  // error says why. Without a tokens file it does nothing.
  Status Reload();

  // The credential behind a presented token ("" when none was sent). Every known token is
  // compared, each in constant time, so the answer time does not tell how close a guess was.
  Grant Identify(std::string_view presented) const;

  std::string Mode() const;  // "open", "shared" or "per-sensor"
  size_t Count() const;      // credential lines in force (per-sensor mode)
  const std::string& tokens_file() const { return tokens_file_; }

 private:
  Credentials(std::string shared_token, std::string tokens_file)
      : shared_(std::move(shared_token)), tokens_file_(std::move(tokens_file)) {}
  Result<std::shared_ptr<const std::vector<CredentialLine>>> ReadFile() const;

  const std::string shared_;
  const std::string tokens_file_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<CredentialLine>> table_;
};

// The token a request presents: "Authorization: Bearer T" (header value given), else the
// token from a /falco/T path (path_token, "" when absent).
std::string PresentedToken(std::string_view authorization_header, std::string_view path_token);

// True when the request carries "Authorization: Bearer <token>".
bool BearerMatches(const HttpRequest& req, const std::string& token);

// "/falco/TOKEN" -> "TOKEN" (Falco's http_output cannot send headers, so its token may
// ride in the path, for /falco only); "" for every other path.
std::string FalcoPathToken(const std::string& path);

// The credential a POST presents (bearer header, or the /falco/TOKEN path). The HTTP layer
// asks right after the headers and refuses an unauthenticated POST before its body is read;
// the routes then check the grant against each event's sensor.id.
Grant IngestGrant(const Credentials& credentials, const HttpRequest& req);

// GET of the API, stream and metrics: allowed without --ui-token, else with the UI token
// (header or ?token=) or the ingest token.
bool ReadAllowed(const ReceiverConfig& config, const HttpRequest& req);

}  // namespace sandwatch::receiver
