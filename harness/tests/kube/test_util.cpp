#include "test_util.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sandwatch::harness::kube::testing {

std::string SourceDir() {
  const char* env = std::getenv("SANDWATCH_SOURCE_DIR");
  return env != nullptr ? env : SANDWATCH_TEST_SOURCE_DIR;
}

std::string BinDir() {
  const char* env = std::getenv("SANDWATCH_BIN_DIR");
  return env != nullptr ? env : SANDWATCH_TEST_BIN_DIR;
}

ShellResult Shell(const std::string& command) {
  ShellResult result;
  const std::string wrapped = "( " + command + " ) 2>&1";
  FILE* pipe = popen(wrapped.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

bool OnPath(const std::string& name) {
  return Shell("command -v " + ShellQuote(name) + " >/dev/null").exit_code == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  return mkdtemp(tmpl.data()) == nullptr ? std::string() : tmpl;
}

}  // namespace sandwatch::harness::kube::testing
