#include "watch_paths.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "sandwatch/core/procfs/parsers.h"
#include "source_util.h"

namespace sandwatch::sensor {

const std::vector<std::string>& DefaultSensitivePatterns() {
  static const std::vector<std::string> kPatterns = {
      "/etc/shadow",
      "/etc/shadow-",
      "/etc/gshadow",
      "/etc/sudoers",
      "/etc/security/opasswd",
      "/var/run/secrets/kubernetes.io/serviceaccount/token",
      "~/.aws/credentials",
      "~/.aws/config",
      "~/.ssh/id_rsa",
      "~/.ssh/id_ed25519",
      "~/.kube/config",
      "~/.docker/config.json",
      "~/.git-credentials",
      "~/.netrc",
      "~/.boto",
      "~/.s3cfg",
      "~/.config/gcloud/credentials.db",
      "~/.config/gcloud/application_default_credentials.json",
      "~/.azure/accessTokens.json",
      "~/.azure/msal_token_cache.json",
  };
  return kPatterns;
}

const std::vector<std::string>& DefaultBinDirs() {
  static const std::vector<std::string> kDirs = {"/bin",      "/usr/bin",       "/sbin",
                                                 "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"};
  return kDirs;
}

const std::vector<std::string>& DefaultLibDirs() {
  static const std::vector<std::string> kDirs = {"/lib",
                                                 "/lib64",
                                                 "/usr/lib",
                                                 "/usr/lib64",
                                                 "/usr/local/lib",
                                                 "/usr/lib/x86_64-linux-gnu",
                                                 "/usr/lib/aarch64-linux-gnu"};
  return kDirs;
}

const std::vector<std::string>& DefaultDropDirs() {
  static const std::vector<std::string> kDirs = {"/tmp", "/var/tmp", "/dev/shm"};
  return kDirs;
}

namespace {

// A home directory worth watching: absolute, not "/" and not a system directory
// that /etc/passwd gives to daemons (/nonexistent, /bin, /var/...).
bool UsefulHome(const std::string& h) {
  if (h.size() < 2 || h[0] != '/' || h.find("..") != std::string::npos) return false;
  for (const char* skip : {"/nonexistent", "/bin", "/sbin", "/usr", "/dev", "/proc", "/sys"}) {
    if (h == skip || h.rfind(std::string(skip) + "/", 0) == 0) return false;
  }
  return true;
}

std::vector<std::string> HomeDirs(const std::string& root,
                                  const std::vector<std::string>& extra_homes) {
  std::vector<std::string> homes = {"/root"};
  if (DIR* dir = opendir(UnderRoot(root, "/home").c_str())) {
    while (dirent* ent = readdir(dir)) {
      std::string name = ent->d_name;
      if (name == "." || name == "..") continue;
      homes.push_back("/home/" + name);
    }
    closedir(dir);
  }
  // name:pw:uid:gid:gecos:HOME:shell
  std::ifstream passwd(UnderRoot(root, "/etc/passwd"));
  std::string line;
  for (int n = 0; n < 10000 && std::getline(passwd, line); ++n) {
    size_t pos = 0;
    for (int field = 0; field < 5 && pos != std::string::npos; ++field) {
      pos = line.find(':', pos);
      if (pos != std::string::npos) ++pos;
    }
    if (pos == std::string::npos) continue;
    std::string home = line.substr(pos, line.find(':', pos) - pos);
    if (UsefulHome(home)) homes.push_back(home);
  }
  for (const std::string& h : extra_homes) {
    if (UsefulHome(h)) homes.push_back(h);
  }
  for (auto& h : homes) {  // a trailing slash would double up in "~/x"
    while (h.size() > 1 && h.back() == '/') h.pop_back();
  }
  std::sort(homes.begin(), homes.end());
  homes.erase(std::unique(homes.begin(), homes.end()), homes.end());
  return homes;
}

}  // namespace

std::vector<std::string> WorkloadHomes(const procfs::ProcFs& fs, size_t max_processes) {
  std::vector<std::string> homes;
  auto pids = fs.ListPids();
  if (!pids.ok()) return homes;
  size_t n = 0;
  for (int pid : *pids) {
    if (++n > max_processes) break;
    auto env = fs.ReadPidFile(pid, "environ", 64u << 10);
    if (!env.ok()) continue;
    for (const std::string& kv : procfs::ParseCmdline(*env)) {
      if (kv.rfind("HOME=", 0) == 0) homes.push_back(kv.substr(5));
    }
  }
  std::sort(homes.begin(), homes.end());
  homes.erase(std::unique(homes.begin(), homes.end()), homes.end());
  return homes;
}

std::vector<std::string> ExistingUnderRoot(const std::string& root,
                                           const std::vector<std::string>& patterns,
                                           const std::vector<std::string>& extra_homes) {
  std::vector<std::string> candidates;
  std::vector<std::string> homes;
  for (const std::string& p : patterns) {
    if (p.rfind("~/", 0) == 0) {
      if (homes.empty()) homes = HomeDirs(root, extra_homes);
      for (const std::string& h : homes) candidates.push_back(h + p.substr(1));
    } else {
      candidates.push_back(p);
    }
  }
  std::vector<std::string> out;
  for (const std::string& c : candidates) {
    struct stat st {};
    if (stat(UnderRoot(root, c).c_str(), &st) == 0) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sandwatch::sensor
