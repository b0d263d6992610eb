// The state directory's files: atomic replacement, who may have written them, seals,
// setting bad files aside, and the text codecs. Real files in a temp directory.
#include "sandwatch/sensor/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sandwatch/sensor/sha256.h"
#include "sandwatch/sensor/state_codec.h"

namespace sandwatch::sensor::state {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/sw-state-test-XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StateFile, AtomicWriteCreatesAPrivateFileAndLeavesNoTemp) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path(), "state.v1", "one\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.path(), "state.v1", "two\n").ok());
  EXPECT_EQ(Slurp(dir / "state.v1"), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "state.v1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);  // the temp file was renamed, not left behind
}

TEST(StateFile, ReadersNeverSeeATornFileWhileItIsReplaced) {
  TempDir dir;
  const std::string a(size_t{256} * 1024, 'a');
  const std::string b(size_t{300} * 1024, 'b');
  ASSERT_TRUE(WriteFileAtomic(dir.path(), "f", a).ok());
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      std::string got = Slurp(dir / "f");
      if (got != a && got != b) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(WriteFileAtomic(dir.path(), "f", i % 2 ? a : b).ok());
  }
  // Make sure the reader overlapped with at least some writes.
  while (reads.load() < 20) {
    ASSERT_TRUE(WriteFileAtomic(dir.path(), "f", reads.load() % 2 ? a : b).ok());
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

TEST(StateFile, AFailedWriteLeavesTheOldFile) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path(), "state.v1", "old\n").ok());
  // A directory in the way of the rename: the write fails, the old content stays.
  fs::create_directory(dir / "blocked");
  fs::create_directory(dir / "blocked/x");
  EXPECT_FALSE(WriteFileAtomic(dir.path(), "blocked", "new\n").ok());
  EXPECT_FALSE(WriteFileAtomic(dir / "missing", "state.v1", "new\n").ok());
  EXPECT_EQ(Slurp(dir / "state.v1"), "old\n");
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST(StateFile, OnlyThePrivateFilesOfThisUidAreRead) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path(), "ok", "x\n").ok());
  EXPECT_EQ(*ReadOwnFile(dir / "ok", 100), "x\n");
  EXPECT_EQ(ReadOwnFile(dir / "absent", 100).error().code, ENOENT);

  ASSERT_TRUE(WriteFileAtomic(dir.path(), "shared", "x\n").ok());
  ::chmod((dir / "shared").c_str(), 0666);
  auto shared = ReadOwnFile(dir / "shared", 100);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.error().message.find("mode 0666"), std::string::npos);

  fs::create_symlink(dir / "ok", dir / "link");
  EXPECT_FALSE(ReadOwnFile(dir / "link", 100).ok());
  EXPECT_FALSE(ReadOwnFile(dir / "ok", 1).ok());  // over the size limit

  if (::geteuid() == 0) {
    ASSERT_TRUE(WriteFileAtomic(dir.path(), "theirs", "x\n").ok());
    ASSERT_EQ(::chown((dir / "theirs").c_str(), 12345, 12345), 0);
    auto theirs = ReadOwnFile(dir / "theirs", 100);
    ASSERT_FALSE(theirs.ok());
    EXPECT_NE(theirs.error().message.find("owned by uid 12345"), std::string::npos);
  }
}

TEST(StateFile, Sha256AndHmacMatchPublishedVectors) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256(std::string(1000, 'a'))),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  // RFC 4231 test cases 2 and 6 (a key longer than the block).
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ToHex(HmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(StateFile, SealRoundTripsAndRejectsTampering) {
  std::string body = "sandwatch.sensor-seq/v1\nlast_seq 7\n";
  std::string mac = Seal(body, "k1");
  EXPECT_EQ(*Unseal(mac, "k1"), body);
  EXPECT_FALSE(Unseal(mac, "k2").ok());  // another key
  EXPECT_FALSE(Unseal(mac, "").ok());    // cannot be checked without the key
  std::string forged = mac;
  forged.replace(forged.find('7'), 1, "3");
  EXPECT_FALSE(Unseal(forged, "k1").ok());

  std::string sum = Seal(body, "");
  EXPECT_EQ(*Unseal(sum, ""), body);
  EXPECT_FALSE(Unseal(sum, "k1").ok());  // a checksum is not enough when a key exists
  std::string corrupt = sum;
  corrupt[5] ^= 1;
  EXPECT_FALSE(Unseal(corrupt, "").ok());
  EXPECT_FALSE(Unseal(sum.substr(0, sum.size() - 10), "").ok());  // torn
  EXPECT_FALSE(Unseal("", "").ok());
}

TEST(StateFile, SetAsideKeepsAFewCopies) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(WriteFileAtomic(dir.path(), "state.v1", "bad " + std::to_string(i)).ok());
    auto aside = SetAside(dir / "state.v1", 3);
    ASSERT_TRUE(aside.ok()) << aside.error().message;
    EXPECT_EQ(Slurp(*aside), "bad " + std::to_string(i));
  }
  size_t copies = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().rfind("state.v1.bad-", 0), 0u);
    ++copies;
  }
  EXPECT_EQ(copies, 3u);
  EXPECT_FALSE(fs::exists(dir / "state.v1"));
}

TEST(StateCodec, StateRoundTripsAndRejectsDamage) {
  SavedState s;
  s.sensor_id = "kata-app-1c9e0b2a";
  s.boot_id = "b7c1";
  s.saved_boot_ns = 123456789;
  s.saved_wall_ns = 1700000000000000000;
  s.heartbeat_boot_ns = 123000000;
  s.last_seq = 42;
  s.restarts = 2;
  s.processes = {{1, 5, 0xdeadbeef}, {4242, 99999, 7}};
  std::string text = EncodeState(s);
  auto back = DecodeState(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->sensor_id, s.sensor_id);
  EXPECT_EQ(back->last_seq, 42u);
  EXPECT_EQ(back->restarts, 2u);
  EXPECT_EQ(back->processes, s.processes);
  // About 20 bytes per process.
  EXPECT_LT(text.size(), 200u + 2 * 30u);

  EXPECT_FALSE(DecodeState(text.substr(0, text.size() - 4)).ok());  // cut mid-record
  std::string extra = text + "p 7 1 0\n";
  EXPECT_FALSE(DecodeState(extra).ok());  // more than declared
  std::string bad = text;
  bad.replace(bad.find("p 4242"), 6, "p -1  ");
  EXPECT_FALSE(DecodeState(bad).ok());
  EXPECT_FALSE(DecodeState("something else\n").ok());
}

TEST(StateCodec, BaselineRoundTripsOddPaths) {
  std::unordered_map<std::string, procfs::FileStat> files;
  files["/usr/bin/ls"] = procfs::FileStat{2049, 1234, 138208, 1690000000123456789, 0100755};
  files["/opt/odd name\nwith\\newline"] = procfs::FileStat{2049, 99, 10, 5, 0100700};
  SavedBaseline b;
  b.boot_id = "boot";
  b.built_boot_ns = 77;
  b.built_wall_ns = 1700000000000000000;
  b.baseline = procfs::Baseline::FromEntries("/proc/7/root", files, false);
  auto back = DecodeBaseline(EncodeBaseline(b));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->root, "/proc/7/root");
  EXPECT_EQ(back->baseline.size(), 2u);
  EXPECT_TRUE(back->baseline.Contains("/opt/odd name\nwith\\newline"));
  EXPECT_TRUE(back->baseline.Contains("/usr/bin/ls",
                                      procfs::FileStat{2049, 1234, 138208, 1690000000123456789}));
  EXPECT_FALSE(back->baseline.Contains("/usr/bin/ls", procfs::FileStat{2049, 1235, 138208, 0}));
}

TEST(StateCodec, SeqRoundTrips) {
  auto back = DecodeSeq(EncodeSeq(SavedSeq{"id with space", "boot", 9, 11}));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->sensor_id, "id with space");
  EXPECT_EQ(back->last_seq, 9u);
  EXPECT_FALSE(DecodeSeq("sandwatch.sensor-seq/v1\nlast_seq x\n").ok());
}

}  // namespace
}  // namespace sandwatch::sensor::state
