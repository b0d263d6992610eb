#include "sandwatch/core/rules/loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace sandwatch::rules {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseRules(yaml, "my.yaml");
  return r.ok() ? "" : r.error().message;
}

std::string Rule(const std::string& body) {
  return "rules:\n  - name: my_rule\n    priority: Warning\n    output: \"x %proc.name\"\n" + body;
}

TEST(Loader, ParsesAFullRule) {
  auto r = ParseRules(
      "version: 1\n"
      "rules:\n"
      "  - name: demo\n"
      "    description: d\n"
      "    priority: info\n"
      "    tags: [a, T1]\n"
      "    output: \"%proc.name %fd.name\"\n"
      "    enabled: false\n"
      "    when:\n"
      "      - proc_name: cat\n"
      "        cmdline: ['(?i)SHADOW']\n"
      "        remote_not_in: []\n"
      "      - file_open: ['/etc/*']\n"
      "        exe_new: true\n"
      "    unless: {expected: true}\n",
      "x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rules.size(), 1u);
  const auto& rule = r->rules[0];
  EXPECT_EQ(rule.name, "demo");
  EXPECT_EQ(rule.priority, Priority::kInformational);
  EXPECT_FALSE(rule.enabled);
  ASSERT_EQ(rule.when.size(), 2u);
  EXPECT_EQ(rule.when[0].proc_name, std::vector<std::string>{"cat"});
  ASSERT_EQ(rule.when[0].cmdline.size(), 1u);
  EXPECT_TRUE(std::regex_search("cat /etc/shadow", rule.when[0].cmdline[0].re));
  ASSERT_TRUE(rule.when[0].remote_not_in.has_value());
  EXPECT_TRUE(rule.when[0].remote_not_in->empty());
  ASSERT_EQ(rule.unless.size(), 1u);
  EXPECT_EQ(rule.unless[0].expected, true);
}

TEST(Loader, ErrorsNameTheFileRuleAndField) {
  struct Case {
    std::string yaml;
    std::string want;
  };
  std::vector<Case> cases = {
      {Rule("    when: {proc_nam: [cat]}\n"), "rule 'my_rule': when.proc_nam"},
      {Rule("    when: {cmdline: ['(unclosed']}\n"), "when.cmdline (line"},
      {Rule("    when: {exe_new: maybe}\n"), "when.exe_new"},
      {Rule("    when: {remote_not_in: [10.0.0.0/40]}\n"), "when.remote_not_in"},
      {Rule("    when: {}\n"), "at least one condition"},
      {Rule("    when: []\n"), "non-empty list"},
      {Rule("    when: {proc_name: []}\n"), "must not be empty"},
      {Rule("    when: {proc_name: cat}\n    colour: red\n"), "colour (line 6): unknown field"},
      {Rule(""), "when (line 2): missing"},
      {"rules:\n  - name: a\n    priority: Loud\n    output: x\n    when: {proc_name: x}\n",
       "rule 'a': priority (line 3): unknown priority \"Loud\""},
      {"rules:\n  - name: a\n    priority: Warning\n    output: '%proc.nam'\n    when: {proc_name: "
       "x}\n",
       "rule 'a': output (line 4): unknown field %proc.nam"},
      {"rules:\n  - name: Bad-Name\n    priority: Warning\n    output: x\n    when: {proc_name: "
       "x}\n",
       "name (line 2): use 1-64"},
      {"rules:\n  - priority: Warning\n", "rules[0]: name"},
      {Rule("    when: {proc_name: x}\n") + "  - name: my_rule\n    priority: Warning\n"
                                            "    output: x\n    when: {proc_name: y}\n",
       "duplicate rule name"},
      {"rulez: []\n", "expected a map with a \"rules:\" list"},
      {"version: 2\nrules: []\n", "only version 1"},
      {"rules: [\n", "my.yaml: line"},
  };
  for (const auto& c : cases) {
    std::string err = ErrorOf(c.yaml);
    EXPECT_NE(err.find(c.want), std::string::npos) << "yaml:\n" << c.yaml << "\nerror: " << err;
    EXPECT_EQ(err.rfind("my.yaml: ", 0), 0u) << err;
  }
}

TEST(Loader, LoadsAFileAndReportsAMissingOne) {
  std::string path = ::testing::TempDir() + "/rules_loader_test.yaml";
  {
    std::ofstream out(path);
    out << Rule("    when: {proc_name: cat}\n");
  }
  auto r = LoadRulesFile(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->source, path);
  std::remove(path.c_str());
  auto missing = LoadRulesFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::rules
