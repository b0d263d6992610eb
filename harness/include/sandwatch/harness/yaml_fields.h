// Strict reading of the YAML mappings of a scenario file (the chain scenario's sections
// and a sweep's `sweep:` map) from a table of fields: each field names its key and
// where its value goes, which decides how it is read. Unknown keys, wrong types and bad
// values are errors that name the key path ("sensor.poll_interval: must be ..."); the
// parser that catches FieldError adds the file's name.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace sandwatch::harness::yamlf {

// What every reader here throws: "key.path: why".
struct FieldError {
  std::string message;
};
[[noreturn]] void Fail(const std::string& key, const std::string& why);

// A duration: seconds, or a string such as "500ms", "3m".
struct Seconds {
  double* out;
};
// Anything else: called with the value and its key path.
using Custom = std::function<void(const YAML::Node& value, const std::string& key)>;
// A string; a bool; a whole number (int, optional<int>, uint64_t, each item of a
// vector<int64_t>) or any number (double, vector<double>); a non-empty list of distinct
// strings (a single scalar is a list of one).
using Target = std::variant<std::string*, bool*, int*, std::optional<int>*, uint64_t*, double*,
                            std::vector<int64_t>*, std::vector<double>*, std::vector<std::string>*,
                            Seconds, Custom>;

struct Field {
  const char* key;
  Target target;
  std::set<std::string> allowed = {};  // a string, or each string of a list: one of these
  double lo = -std::numeric_limits<double>::infinity();  // numbers and durations: [lo, hi]
  double hi = std::numeric_limits<double>::infinity();
  bool required = false;
};

// Reads the fields of the mapping `map` (at key path `where`, empty for the root) that
// are there. A key not in `fields` and a missing required field are errors.
void ReadFields(const YAML::Node& map, const std::string& where, const std::vector<Field>& fields);

// A list of strings as a Field reads it (each one of `allowed` when not empty).
std::vector<std::string> List(const YAML::Node& n, const std::string& key,
                              const std::set<std::string>& allowed);

}  // namespace sandwatch::harness::yamlf
