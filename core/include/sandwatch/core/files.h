// Whole-file reads and atomic whole-file writes, for the small JSON, JSONL and text files the
// tools keep (results folders, Falco output, process captures). Not for /proc: that goes
// through core/procfs, which reads relative to a pid directory handle.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch {

// Large enough for any results file the harness writes; a cap keeps a runaway or hostile file
// from filling memory.
inline constexpr size_t kDefaultMaxFileBytes = size_t{256} << 20;

// Reads the whole file. Fails (with errno in Error::code) when it cannot be opened or read, and
// with EFBIG when it holds more than max_bytes: nothing is ever silently cut short.
Result<std::string> ReadFileToString(const std::string& path,
                                     size_t max_bytes = kDefaultMaxFileBytes);

// Splits text at '\n' the way std::getline does: a final line without a newline is kept, a
// trailing newline does not add an empty line. "\r" stays part of the line.
std::vector<std::string> SplitLines(std::string_view text);

// Writes text to a temporary file beside path, then renames it over path, so a reader sees
// either the old content or the new one, never a half-written file. On failure the temporary
// file is removed and path is left as it was. Not durable across a power loss (no fsync).
Status WriteFileAtomic(const std::string& path, std::string_view text);

}  // namespace sandwatch
