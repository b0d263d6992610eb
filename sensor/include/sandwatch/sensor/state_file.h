// The files of the sensor's state directory (STATE_DIR): written atomically, read only
// when they are the sensor's own, sealed with a MAC (or a checksum without a key), and
// set aside, never deleted, when they cannot be trusted.
// All functions are thread-compatible: callers serialise writes to one name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor::state {

// Creates `dir` (and missing parents) with mode 0700 when it does not exist.
Status EnsureDir(const std::string& dir);

// Replaces dir/name with `content` atomically: a new temp file in the same directory
// (O_EXCL, mode 0600), write, fsync, rename over dir/name, fsync the directory. A crash
// at any point leaves either the old file or the new one, never a torn file. On error
// the temp file is removed and dir/name is untouched. With `sync` false the two fsyncs
// are skipped: still atomic when the writer is killed (the page cache outlives it), not
// across a kernel crash (after which the state is from another boot and refused anyway).
Status WriteFileAtomic(const std::string& dir, const std::string& name, std::string_view content,
                       bool sync = true);

// Reads `path` when it is a regular file (not a symlink) owned by this process's uid,
// with no group or other permission bits, and at most `max_bytes` long. Error code
// ENOENT when it does not exist; otherwise the message says why it is not trusted.
Result<std::string> ReadOwnFile(const std::string& path, size_t max_bytes);

// Renames `path` to "<path>.bad-<unix seconds>" so it is kept for a look but never read
// again; keeps at most `keep` set-aside copies of one name (the oldest are deleted, so
// a flood of bad files cannot fill the volume). Returns the new path.
Result<std::string> SetAside(const std::string& path, size_t keep = 3);

// Appends the seal: "mac hmac-sha256 <hex>\n" over `body` with `key`, or, without a key,
// "sum sha256 <hex>\n" (detects corruption, not forgery).
std::string Seal(std::string body, std::string_view key);
// Checks the seal and returns the body. With a key, an unsealed or checksum-only file
// is refused (a forger could write one); without a key, a MAC-sealed file is refused
// (it cannot be checked).
Result<std::string> Unseal(std::string_view text, std::string_view key);

// One-line values: '\' -> "\\", newline -> "\n", carriage return -> "\r".
std::string EscapeLine(std::string_view raw);
Result<std::string> UnescapeLine(std::string_view escaped);

}  // namespace sandwatch::sensor::state
