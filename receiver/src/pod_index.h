// The pod filter over the deferred pod index: events n <= pod_index_state.upto are found in
// events_pod (pod, time_ns, n), the newer ones ("the tail") by their pod column.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/receiver/query.h"
#include "sandwatch/receiver/store.h"

struct sqlite3;

namespace sandwatch::receiver {

// The WHERE term of a pod filter over `pods` values: membership in the indexed part, or a
// tail row whose pod is one of them. Its parameters are the pods, twice, in order. With
// `drive`, the pod's rows drive the query (looked up by row number); otherwise another index
// (time, rule, ...) is walked and each row tested.
std::string PodCondition(size_t pods, bool drive);

// True when `q` filters by pod and nothing else but a time window.
bool IsPodsOnly(const EventQuery& q);

// Answers a pods-only query (IsPodsOnly) from events_pod merged with the tail, in time order,
// without reading the events it skips; the count too. Runs inside the caller's read
// transaction, so the index, its mark and the tail are one snapshot.
Result<QueryResult> QueryPodsOnly(sqlite3* db, const EventQuery& q);

// The distinct non-empty rules, sources, pods and sensors of the events (at most `limit` of
// each, sorted), for the UI's filters; the pods from the pod index and its tail.
Result<std::vector<std::pair<std::string, std::vector<std::string>>>> FacetValues(sqlite3* db,
                                                                                  int limit);

}  // namespace sandwatch::receiver
