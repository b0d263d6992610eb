// Who may call what: the one place the receiver decides about credentials. The HTTP
// layer asks IngestAllowed() right after a POST's headers, before its body is read, and
// the routes ask again with the whole request.
#pragma once

#include <string>

#include "http_message.h"
#include "sandwatch/receiver/config.h"

namespace sandwatch::receiver {

// Constant-time comparison so a token cannot be guessed byte by byte.
bool SameSecret(const std::string& a, const std::string& b);

// True when the request carries "Authorization: Bearer <token>".
bool BearerMatches(const HttpRequest& req, const std::string& token);

// POST (ingestion): allowed without --token, else with its bearer token.
bool IngestAllowed(const ReceiverConfig& config, const HttpRequest& req);

// GET of the API, stream and metrics: allowed without --ui-token, else with the UI token
// (header or ?token=) or the ingest token.
bool ReadAllowed(const ReceiverConfig& config, const HttpRequest& req);

}  // namespace sandwatch::receiver
