// The two descriptor-level pieces that whole-file writers share: writing a buffer in full
// across short writes and EINTR, and an Error that carries errno and its text.
#pragma once

#include <string>
#include <string_view>

#include "sandwatch/core/result.h"

namespace sandwatch {

// Writes all of data to fd; false on an error or a zero-length write (errno says which).
bool WriteAll(int fd, std::string_view data);

// "what: strerror(err)", with err kept in Error::code.
Error OsError(const std::string& what, int err);

}  // namespace sandwatch
