#include "sandwatch/core/cli.h"

#include <cstdio>

#include "sandwatch/core/ids.h"

namespace sandwatch {

std::string VersionText(std::string_view binary) { return std::string(binary) + " " + Version(); }

void AddVersionFlag(CLI::App& app, std::string_view binary) {
  app.set_version_flag("--version", VersionText(binary));
}

std::optional<int> ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                    std::string_view binary, std::string_view error_suffix) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%.*s: %s%.*s\n", static_cast<int>(binary.size()), binary.data(), e.what(),
                 static_cast<int>(error_suffix.size()), error_suffix.data());
    return 2;
  }
  return std::nullopt;
}

}  // namespace sandwatch
