// Output templates: "%proc.name read %fd.name" with Falco-style field names.
//
// Fields: proc.name proc.exe proc.cmdline proc.pid proc.ppid proc.pname
// proc.pcmdline proc.aname proc.cwd user.uid fd.name connection.remote
// connection.local connection.proto k8s.pod.name k8s.ns.name rule.
// Values are attacker-controlled: control characters are escaped as \xNN.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sandwatch/core/process.h"
#include "sandwatch/core/result.h"
#include "sandwatch/core/rules/engine.h"

namespace sandwatch::rules {

using FieldMap = std::map<std::string, std::string>;

// Whether `name` is a known template field.
bool IsKnownField(std::string_view name);
// Checks that every %field in `tmpl` is known; the Error names the first unknown one.
Status ValidateTemplate(std::string_view tmpl);

// Every known field's value for this process and match ("" when unknown).
FieldMap OutputFields(const ProcessInfo& p, const Match& m, std::string_view pod,
                      std::string_view ns);

// Substitutes %field references; "%%" is a literal percent sign. Unknown fields
// are left as written.
std::string RenderTemplate(std::string_view tmpl, const FieldMap& fields);

// Replaces control characters and invalid bytes with \xNN.
std::string EscapeControl(std::string_view s);

}  // namespace sandwatch::rules
