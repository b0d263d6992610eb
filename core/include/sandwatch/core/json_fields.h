// Strict readers for untrusted JSON objects. Each call checks the type and size
// of one field and returns an Error that names the field path, e.g.
// "process.cmdline[2]: expected a string".
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::jsonf {

// `path` is the field's full name for error messages.
Status ReadString(const nlohmann::json& obj, std::string_view key, std::string_view path,
                  bool required, std::string* out);
Status ReadInt(const nlohmann::json& obj, std::string_view key, std::string_view path,
               bool required, int64_t* out);
Status ReadDouble(const nlohmann::json& obj, std::string_view key, std::string_view path,
                  bool required, double* out);
Status ReadStringArray(const nlohmann::json& obj, std::string_view key, std::string_view path,
                       bool required, std::vector<std::string>* out);
// Any scalar value becomes its text; nested objects and arrays are dumped as JSON.
Status ReadFlatMap(const nlohmann::json& obj, std::string_view key, std::string_view path,
                   std::map<std::string, std::string>* out);

std::string Join(std::string_view a, std::string_view b);

}  // namespace sandwatch::jsonf
