#include "sandwatch/attack_sim/workload_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "sandwatch/attack_sim/spawn.h"

namespace sandwatch::attacksim {

Result<std::string> DropFile(const std::string& dir, bool script) {
  std::string tmpl = dir + "/sw-newbin-XXXXXX";
  std::vector<char> path(tmpl.begin(), tmpl.end());
  path.push_back('\0');
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0)
    return MakeError("--drop-dir: cannot create a file in " + dir + ": " + strerror(errno));
  std::string content;
  if (script) {
    content = "#!/bin/sh\n# sandwatch attack-sim: a harmless dropped script\nread -r _line\n";
  } else {
    auto cat = FindOnPath("cat");
    std::ifstream in(cat.ok() ? *cat : "/bin/cat", std::ios::binary);
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  bool ok = !content.empty() &&
            write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ok && fchmod(fd, 0755) == 0;
  close(fd);
  if (!ok) {
    unlink(path.data());
    return MakeError("cannot write the dropped file " + std::string(path.data()));
  }
  return std::string(path.data());
}

}  // namespace sandwatch::attacksim
