// Who may call what: the one place the receiver decides about credentials. The HTTP
// layer asks IngestGrant() right after a POST's headers, before its body is read, and
// the routes ask again with the whole request.
#pragma once

#include <string>

#include "http_message.h"
#include "sandwatch/receiver/config.h"
#include "sandwatch/receiver/credentials.h"

namespace sandwatch::receiver {

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
