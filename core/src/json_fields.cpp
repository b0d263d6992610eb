#include "sandwatch/core/json_fields.h"

#include <cmath>

#include "sandwatch/core/event.h"

namespace sandwatch::jsonf {
namespace {

Error Bad(std::string_view path, std::string_view what) {
  return MakeError(std::string(path) + ": " + std::string(what));
}

}  // namespace

std::string Join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  return std::string(a) + "." + std::string(b);
}

Status ReadString(const nlohmann::json& obj, std::string_view key, std::string_view path,
                  bool required, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Bad(path, "required field is missing");
    return OkStatus();
  }
  if (!it->is_string()) return Bad(path, "expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxStringBytes) return Bad(path, "string longer than 64 KiB");
  *out = s;
  return OkStatus();
}

Status ReadInt(const nlohmann::json& obj, std::string_view key, std::string_view path,
               bool required, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Bad(path, "required field is missing");
    return OkStatus();
  }
  // Unsigned first: is_number_integer() is true for unsigned values too, and reading one
  // above INT64_MAX as int64_t would wrap it to a negative number.
  if (it->is_number_unsigned()) {
    auto u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return Bad(path, "integer out of range");
    *out = static_cast<int64_t>(u);
    return OkStatus();
  }
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return OkStatus();
  }
  return Bad(path, "expected an integer");
}

Status ReadDouble(const nlohmann::json& obj, std::string_view key, std::string_view path,
                  bool required, double* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Bad(path, "required field is missing");
    return OkStatus();
  }
  if (!it->is_number()) return Bad(path, "expected a number");
  double d = it->get<double>();
  if (!std::isfinite(d)) return Bad(path, "expected a finite number");
  *out = d;
  return OkStatus();
}

Status ReadStringArray(const nlohmann::json& obj, std::string_view key, std::string_view path,
                       bool required, std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Bad(path, "required field is missing");
    return OkStatus();
  }
  if (!it->is_array()) return Bad(path, "expected an array of strings");
  if (it->size() > kMaxArrayItems) return Bad(path, "array has more than 4096 items");
  out->clear();
  out->reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (!v.is_string()) {
      return Bad(std::string(path) + "[" + std::to_string(i) + "]", "expected a string");
    }
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > kMaxStringBytes) return Bad(path, "string longer than 64 KiB");
    out->push_back(s);
  }
  return OkStatus();
}

Status ReadFlatMap(const nlohmann::json& obj, std::string_view key, std::string_view path,
                   std::map<std::string, std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (!it->is_object()) return Bad(path, "expected an object");
  if (it->size() > kMaxArrayItems) return Bad(path, "object has more than 4096 keys");
  for (const auto& [k, v] : it->items()) {
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.size() > kMaxStringBytes) return Bad(Join(path, k), "value longer than 64 KiB");
    (*out)[k] = std::move(text);
  }
  return OkStatus();
}

}  // namespace sandwatch::jsonf
