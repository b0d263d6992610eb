// Loading rules from YAML, strictly: an unknown key, a wrong type, a bad
// regex, glob, CIDR, priority or %field gives an Error that names the rule and
// the field ("rules.yaml: rule 'nc_execution': when[0].cmdline[1]: bad regex ...").
#pragma once

#include <string>
#include <string_view>

#include "sandwatch/core/result.h"
#include "sandwatch/core/rules/rule.h"

namespace sandwatch::rules {

// `source` names the text in error messages (a file path or "built-in").
Result<RuleSet> ParseRules(std::string_view yaml_text, std::string_view source);

// Reads and parses a file.
Result<RuleSet> LoadRulesFile(const std::string& path);

// The default rules compiled into the binary (core/rules/default-rules.yaml).
std::string_view DefaultRulesYaml();
Result<RuleSet> DefaultRules();

}  // namespace sandwatch::rules
