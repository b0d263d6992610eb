// What every binary's main does with CLI11 the same way: the --version flag and
// turning a parse into an exit code. Help texts and flags stay with each binary.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sandwatch {

// "<binary> <version>", what --version prints.
std::string VersionText(std::string_view binary);

// Adds --version (prints VersionText(binary) and exits 0).
void AddVersionFlag(CLI::App& app, std::string_view binary);

// Parses argv and runs the subcommand callbacks CLI11 runs during a parse. Returns
// nullopt when the program should go on, else its exit code:
//   --help, --help-all, --version    printed on stdout, 0
//   CLI::RuntimeError(n)             n (a callback already said why)
//   any other parse error            "<binary>: <error><error_suffix>" on stderr, 2
// Other exceptions pass through to the caller's catch-all.
std::optional<int> ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                    std::string_view binary, std::string_view error_suffix = "");

}  // namespace sandwatch
