#include "sandwatch/core/rules/loader.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "sandwatch/core/rules/template.h"

namespace sandwatch::rules {
namespace {

// Errors inside one rule carry the field path; the caller adds file and rule.
struct Ctx {
  std::string field;
  Error Fail(const YAML::Node& n, const std::string& msg) const {
    std::string where = field;
    if (n.IsDefined() && n.Mark().line >= 0) {
      where += " (line " + std::to_string(n.Mark().line + 1) + ")";
    }
    return MakeError(where + ": " + msg);
  }
};

Result<std::string> ReadScalar(const YAML::Node& n, const Ctx& c) {
  if (!n.IsScalar()) return c.Fail(n, "expected a string");
  return n.Scalar();
}

Result<bool> ReadBool(const YAML::Node& n, const Ctx& c) {
  if (!n.IsScalar()) return c.Fail(n, "expected true or false");
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "yes") return true;
  if (s == "false" || s == "False" || s == "no") return false;
  return c.Fail(n, "expected true or false, got \"" + s + "\"");
}

// A string or a list of non-empty strings.
Result<std::vector<std::string>> ReadList(const YAML::Node& n, const Ctx& c, bool allow_empty) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      Ctx ci{c.field + "[" + std::to_string(i) + "]"};
      auto s = ReadScalar(n[i], ci);
      if (!s.ok()) return s.error();
      out.push_back(*s);
    }
  } else {
    return c.Fail(n, "expected a string or a list of strings");
  }
  for (const auto& s : out) {
    if (s.empty()) return c.Fail(n, "empty string in list");
  }
  if (out.empty() && !allow_empty) return c.Fail(n, "list must not be empty");
  return out;
}

Result<CompiledRegex> CompileRegex(const std::string& src, const Ctx& c, const YAML::Node& n) {
  std::string body = src;
  auto flags = std::regex::ECMAScript | std::regex::optimize | std::regex::nosubs;
  if (body.rfind("(?i)", 0) == 0) {
    body = body.substr(4);
    flags |= std::regex::icase;
  }
  try {
    return CompiledRegex{src, std::regex(body, flags)};
  } catch (const std::regex_error& e) {
    return c.Fail(n, "bad regex \"" + src + "\": " + e.what());
  }
}

Status ReadConditions(const YAML::Node& n, const Ctx& c, Conditions* out) {
  if (!n.IsMap()) return c.Fail(n, "expected a map of conditions");
  for (auto it = n.begin(); it != n.end(); ++it) {
    // Copies: the iterator's pair is a temporary proxy.
    const YAML::Node key_node = it->first;
    const YAML::Node v = it->second;
    const auto key = key_node.as<std::string>();
    Ctx kc{c.field + "." + key};
    auto list_into = [&](std::vector<std::string>* dst) -> Status {
      auto l = ReadList(v, kc, false);
      if (!l.ok()) return l.error();
      *dst = std::move(*l);
      return OkStatus();
    };
    auto bool_into = [&](std::optional<bool>* dst) -> Status {
      auto b = ReadBool(v, kc);
      if (!b.ok()) return b.error();
      *dst = *b;
      return OkStatus();
    };
    Status st = OkStatus();
    if (key == "proc_name") {
      st = list_into(&out->proc_name);
    } else if (key == "exe") {
      st = list_into(&out->exe);
    } else if (key == "args") {
      st = list_into(&out->args);
    } else if (key == "parent_name") {
      st = list_into(&out->parent_name);
    } else if (key == "ancestor_name") {
      st = list_into(&out->ancestor_name);
    } else if (key == "not_proc_name") {
      st = list_into(&out->not_proc_name);
    } else if (key == "script_in") {
      st = list_into(&out->script_in);
    } else if (key == "stdin_network") {
      st = bool_into(&out->stdin_network);
    } else if (key == "confidence") {
      auto s = ReadScalar(v, kc);
      if (!s.ok()) return s.error();
      if (*s != "low" && *s != "normal") return kc.Fail(v, "expected low or normal");
      out->low_confidence = *s == "low";
    } else if (key == "file_open") {
      st = list_into(&out->file_open);
    } else if (key == "cmdline") {
      std::vector<std::string> srcs;
      st = list_into(&srcs);
      for (size_t i = 0; st.ok() && i < srcs.size(); ++i) {
        auto r = CompileRegex(srcs[i], kc, v);
        if (!r.ok()) return r.error();
        out->cmdline.push_back(std::move(*r));
      }
    } else if (key == "remote_not_in") {
      auto l = ReadList(v, kc, true);
      if (!l.ok()) return l.error();
      std::vector<Cidr> nets;
      for (const auto& s : *l) {
        auto cidr = ParseCidr(s);
        if (!cidr.ok()) return kc.Fail(v, cidr.error().message);
        nets.push_back(std::move(*cidr));
      }
      out->remote_not_in = std::move(nets);
    } else if (key == "exe_new") {
      st = bool_into(&out->exe_new);
    } else if (key == "stdio_network") {
      st = bool_into(&out->stdio_network);
    } else if (key == "expected") {
      st = bool_into(&out->expected);
    } else if (key == "parent_outside") {
      st = bool_into(&out->parent_outside);
    } else if (key == "root") {
      st = bool_into(&out->root);
    } else {
      return kc.Fail(key_node,
                     "unknown condition (known: proc_name, not_proc_name, exe, cmdline, args, "
                     "parent_name, ancestor_name, file_open, script_in, exe_new, "
                     "stdio_network, stdin_network, remote_not_in, expected, parent_outside, "
                     "root; and the block marker confidence)");
    }
    if (!st.ok()) return st;
  }
  if (out->Empty()) return c.Fail(n, "a condition block needs at least one condition");
  return OkStatus();
}

// A map (one block) or a list of maps (alternatives).
Status ReadBlocks(const YAML::Node& n, const std::string& field, std::vector<Conditions>* out) {
  if (n.IsMap()) {
    Conditions c;
    auto st = ReadConditions(n, Ctx{field}, &c);
    if (!st.ok()) return st;
    out->push_back(std::move(c));
    return OkStatus();
  }
  if (!n.IsSequence() || n.size() == 0) {
    return Ctx{field}.Fail(n, "expected a map of conditions or a non-empty list of them");
  }
  for (size_t i = 0; i < n.size(); ++i) {
    Conditions c;
    auto st = ReadConditions(n[i], Ctx{field + "[" + std::to_string(i) + "]"}, &c);
    if (!st.ok()) return st;
    out->push_back(std::move(c));
  }
  return OkStatus();
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

Status ReadRule(const YAML::Node& n, Rule* r) {
  if (!n.IsMap()) return Ctx{"rule"}.Fail(n, "expected a map");
  if (!n["name"]) return Ctx{"name"}.Fail(n, "missing (every rule needs a name)");
  auto name = ReadScalar(n["name"], Ctx{"name"});
  if (!name.ok()) return name.error();
  r->name = *name;
  if (!ValidName(r->name)) {
    return Ctx{"name"}.Fail(n["name"], "use 1-64 of [a-z0-9_]");
  }
  bool have_priority = false, have_output = false, have_when = false;
  for (auto it = n.begin(); it != n.end(); ++it) {
    // Copies: the iterator's pair is a temporary proxy.
    const YAML::Node key_node = it->first;
    const YAML::Node v = it->second;
    const auto key = key_node.as<std::string>();
    Ctx kc{key};
    if (key == "name") {
      continue;
    } else if (key == "description") {
      auto s = ReadScalar(v, kc);
      if (!s.ok()) return s.error();
      r->description = *s;
    } else if (key == "priority") {
      auto s = ReadScalar(v, kc);
      if (!s.ok()) return s.error();
      auto p = ParsePriority(*s);
      if (!p) {
        return kc.Fail(v, "unknown priority \"" + *s +
                              "\" (Emergency, Alert, Critical, Error, Warning, Notice, "
                              "Informational, Debug)");
      }
      r->priority = *p;
      have_priority = true;
    } else if (key == "tags") {
      auto l = ReadList(v, kc, true);
      if (!l.ok()) return l.error();
      r->tags = std::move(*l);
    } else if (key == "output") {
      auto s = ReadScalar(v, kc);
      if (!s.ok()) return s.error();
      if (s->empty()) return kc.Fail(v, "must not be empty");
      auto st = ValidateTemplate(*s);
      if (!st.ok()) return kc.Fail(v, st.error().message);
      r->output = *s;
      have_output = true;
    } else if (key == "enabled") {
      auto b = ReadBool(v, kc);
      if (!b.ok()) return b.error();
      r->enabled = *b;
    } else if (key == "when") {
      auto st = ReadBlocks(v, "when", &r->when);
      if (!st.ok()) return st;
      have_when = true;
    } else if (key == "unless") {
      auto st = ReadBlocks(v, "unless", &r->unless);
      if (!st.ok()) return st;
    } else {
      return kc.Fail(key_node,
                     "unknown field (known: name, description, priority, tags, output, "
                     "enabled, when, unless)");
    }
  }
  if (!have_priority) return Ctx{"priority"}.Fail(n, "missing");
  if (!have_output) return Ctx{"output"}.Fail(n, "missing");
  if (!have_when) return Ctx{"when"}.Fail(n, "missing");
  return OkStatus();
}

Result<RuleSet> ParseRulesUnsafe(std::string_view text, const std::string& src) {
  YAML::Node root = YAML::Load(std::string(text));
  if (!root.IsMap() || !root["rules"]) {
    return MakeError(src + ": expected a map with a \"rules:\" list at the top");
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    const auto key = it->first.as<std::string>();
    if (key != "rules" && key != "version") {
      return MakeError(src + ": line " + std::to_string(it->first.Mark().line + 1) +
                       ": unknown top-level key \"" + key + "\" (known: version, rules)");
    }
  }
  if (root["version"] && (!root["version"].IsScalar() || root["version"].Scalar() != "1")) {
    return MakeError(src + ": version: only version 1 is understood");
  }
  const YAML::Node& list = root["rules"];
  if (!list.IsSequence()) return MakeError(src + ": rules: expected a list of rules");
  RuleSet set;
  set.source = src;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    Rule r;
    auto st = ReadRule(list[i], &r);
    std::string who = r.name.empty() ? "rules[" + std::to_string(i) + "]" : "rule '" + r.name + "'";
    if (!st.ok()) return MakeError(src + ": " + who + ": " + st.error().message);
    if (!names.insert(r.name).second) {
      return MakeError(src + ": " + who + ": name: duplicate rule name");
    }
    set.rules.push_back(std::move(r));
  }
  return set;
}

}  // namespace

Result<RuleSet> ParseRules(std::string_view yaml_text, std::string_view source) {
  std::string src(source);
  try {
    return ParseRulesUnsafe(yaml_text, src);
  } catch (const YAML::Exception& e) {
    return MakeError(src + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<RuleSet> LoadRulesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return MakeError(path + ": cannot read the rules file", errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseRules(ss.str(), path);
}

Result<RuleSet> DefaultRules() { return ParseRules(DefaultRulesYaml(), "built-in"); }

}  // namespace sandwatch::rules
