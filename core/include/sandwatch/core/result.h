// Result<T>: a value or an Error, used for every fallible call inside sandwatch.
// Exceptions from third-party libraries are caught at the library boundary and
// turned into an Error; they never cross our own interfaces.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sandwatch {

struct Error {
  std::string message;
  // errno when the failure came from the OS, 0 otherwise.
  int code = 0;
};

template <class T = std::monostate>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Precondition: !ok().
  const Error& error() const { return std::get<1>(v_); }

  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

using Status = Result<std::monostate>;

inline Status OkStatus() { return {std::monostate{}}; }
inline Error MakeError(std::string message, int code = 0) {
  return Error{std::move(message), code};
}

}  // namespace sandwatch
