// Falco-compatible JSON (what Falco writes with json_output: true), which
// Falcosidekick accepts on POST /: time, rule, priority, output, source, tags,
// hostname and a non-empty output_fields map with Falco's field names.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "sandwatch/core/event.h"

namespace sandwatch::sensor {

// source is "syscall": the events describe process, file and network activity,
// which is what Falco's syscall source reports, and Falcosidekick's UI and outputs
// handle it without configuration. The tag "sandwatch" marks where it came from.
nlohmann::json FalcoJson(const Event& e);

}  // namespace sandwatch::sensor
