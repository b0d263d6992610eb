// Structured logging: one key=value line per call on stderr.
// Security events are data and never go through here.
// Thread-safe: each line is written with a single write(2).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sandwatch {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// "debug", "info", "warn", "error", "off"; false if unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);

inline bool LogEnabled(LogLevel level) { return level >= GetLogLevel(); }

using LogField = std::pair<std::string_view, std::string>;

// Writes `ts=... level=... component=... msg="..." k=v ...`. Values with spaces,
// quotes or control characters are quoted and escaped.
void LogLine(LogLevel level, std::string_view component, std::string_view msg,
             std::initializer_list<LogField> fields = {});

}  // namespace sandwatch

// The level check comes before any formatting of the fields.
#define SW_LOG(level, component, msg, ...)                                               \
  do {                                                                                   \
    if (::sandwatch::LogEnabled(::sandwatch::LogLevel::level)) {                         \
      ::sandwatch::LogLine(::sandwatch::LogLevel::level, component, msg, {__VA_ARGS__}); \
    }                                                                                    \
  } while (0)
