#include "sandwatch/sensor/capture_factory.h"

#include "poll_source.h"

namespace sandwatch::sensor {

// Only `poll` exists until the event-driven sources land (issue 5).
Result<CaptureSelection> MakeCaptureSources(const CaptureOptions& options) {
  CaptureSelection sel;
  if (options.capture != "poll" && options.capture != "auto") {
    return MakeError("--capture " + options.capture + " is not available in this build");
  }
  sel.sources.push_back(std::make_unique<PollSource>(options.poll_interval_s));
  sel.active = "poll";
  sel.why = "capture=poll (only source in this build)";
  return sel;
}

}  // namespace sandwatch::sensor
