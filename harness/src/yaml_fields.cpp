#include "sandwatch/harness/yaml_fields.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/format.h"

namespace sandwatch::harness::yamlf {

namespace {

std::string OneOf(const std::string& v, const std::string& key,
                  const std::set<std::string>& allowed) {
  if (!allowed.empty() && allowed.count(v) == 0) {
    Fail(key, "unknown value '" + v +
                  "' (expected one of: " + Join({allowed.begin(), allowed.end()}, ", ") + ")");
  }
  return v;
}

std::string Text(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Fail(key, "expected a string");
  return n.as<std::string>();
}

// A bound as written in a scenario: 3600000, 0.01.
std::string Bound(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(static_cast<int64_t>(v))
                                                   : Compact(v);
}

double InRange(double v, const std::string& key, const Field& f) {
  if (v >= f.lo && v <= f.hi) return v;
  Fail(key, std::isinf(f.hi) ? "must be >= " + Bound(f.lo)
                             : "must be between " + Bound(f.lo) + " and " + Bound(f.hi));
}

template <class T>
T Number(const YAML::Node& n, const std::string& key, const Field& f) {
  const std::string what = std::is_integral_v<T> ? "expected an integer" : "expected a number";
  T v{};
  if (!n.IsScalar()) Fail(key, what);
  if (!YAML::convert<T>::decode(n, v)) Fail(key, what + ", got '" + n.Scalar() + "'");
  InRange(static_cast<double>(v), key, f);
  return v;
}

void Read(const YAML::Node& v, const std::string& k, const Field& f) {
  std::visit(
      [&](const auto& target) {
        using T = std::decay_t<decltype(target)>;
        if constexpr (std::is_same_v<T, Custom>) {
          target(v, k);
        } else if constexpr (std::is_same_v<T, Seconds>) {
          if (!v.IsScalar()) Fail(k, R"(expected a duration (seconds or "500ms", "3m"))");
          auto ns = ParseDuration(v.Scalar());
          if (!ns.ok()) Fail(k, "bad duration '" + v.Scalar() + "': " + ns.error().message);
          *target.out = InRange(static_cast<double>(*ns) / 1e9, k, f);
        } else if constexpr (std::is_same_v<T, std::string*>) {
          *target = OneOf(Text(v, k), k, f.allowed);
        } else if constexpr (std::is_same_v<T, bool*>) {
          if (!v.IsScalar() || !YAML::convert<bool>::decode(v, *target)) {
            Fail(k, "expected true or false");
          }
        } else if constexpr (std::is_same_v<T, std::vector<std::string>*>) {
          *target = List(v, k, f.allowed);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>*> ||
                             std::is_same_v<T, std::vector<double>*>) {
          if (!v.IsSequence() || v.size() == 0) Fail(k, "expected a non-empty list");
          target->clear();
          for (size_t i = 0; i < v.size(); ++i) {
            const std::string ki = k + "[" + std::to_string(i) + "]";
            target->push_back(Number<typename std::remove_pointer_t<T>::value_type>(v[i], ki, f));
          }
        } else if constexpr (std::is_same_v<T, std::optional<int>*>) {
          *target = Number<int>(v, k, f);
        } else {
          *target = Number<std::remove_pointer_t<T>>(v, k, f);
        }
      },
      f.target);
}

}  // namespace

void Fail(const std::string& key, const std::string& why) { throw FieldError{key + ": " + why}; }

std::vector<std::string> List(const YAML::Node& n, const std::string& key,
                              const std::set<std::string>& allowed) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      out.push_back(Text(n[i], key + "[" + std::to_string(i) + "]"));
    }
  } else {
    Fail(key, "expected a list");
  }
  if (out.empty()) Fail(key, "must not be empty");
  for (size_t i = 0; i < out.size(); ++i) {
    OneOf(out[i], key + "[" + std::to_string(i) + "]", allowed);
    if (std::count(out.begin(), out.end(), out[i]) > 1) {
      Fail(key, "'" + out[i] + "' is listed twice");
    }
  }
  return out;
}

void ReadFields(const YAML::Node& map, const std::string& where, const std::vector<Field>& fields) {
  const auto path = [&where](const std::string& key) {
    return where.empty() ? key : where + "." + key;
  };
  if (!map.IsMap()) Fail(where.empty() ? "scenario" : where, "expected a mapping");
  std::set<std::string> known;
  for (const auto& f : fields) known.insert(f.key);
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (known.count(key) == 0) {
      Fail(path(key),
           "unknown key (expected one of: " + Join({known.begin(), known.end()}, ", ") + ")");
    }
  }
  for (const auto& f : fields) {
    const YAML::Node v = map[f.key];
    if (v) {
      Read(v, path(f.key), f);
    } else if (f.required) {
      Fail(path(f.key), "is required");
    }
  }
}

}  // namespace sandwatch::harness::yamlf
