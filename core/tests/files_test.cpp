#include "sandwatch/core/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

namespace sandwatch {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sandwatch-files-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(FilesTest, WrittenTextReadsBackByteForByte) {
  std::string text = "line one\n";
  text.push_back('\0');
  text += std::string(size_t{200} * 1024, 'x');  // more than one read buffer
  ASSERT_TRUE(WriteFileAtomic(Path("a.bin"), text).ok());
  auto back = ReadFileToString(Path("a.bin"));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, text);
}

TEST_F(FilesTest, EmptyFileReadsAsEmptyString) {
  ASSERT_TRUE(WriteFileAtomic(Path("empty"), "").ok());
  auto back = ReadFileToString(Path("empty"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "");
}

TEST_F(FilesTest, MissingFileIsAnErrorNamingThePath) {
  auto back = ReadFileToString(Path("nope"));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ENOENT);
  EXPECT_NE(back.error().message.find(Path("nope")), std::string::npos);
}

TEST_F(FilesTest, FileOverTheCapIsRefusedNotCut) {
  ASSERT_TRUE(WriteFileAtomic(Path("big"), std::string(1000, 'y')).ok());
  auto back = ReadFileToString(Path("big"), 999);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, EFBIG);
  EXPECT_TRUE(ReadFileToString(Path("big"), 1000).ok());
}

TEST_F(FilesTest, ReplaceLeavesNoTemporaryFileBehind) {
  ASSERT_TRUE(WriteFileAtomic(Path("f.json"), "old").ok());
  ASSERT_TRUE(WriteFileAtomic(Path("f.json"), "new").ok());
  EXPECT_EQ(*ReadFileToString(Path("f.json")), "new");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(FilesTest, FailedWriteKeepsTheOldContent) {
  ASSERT_TRUE(WriteFileAtomic(Path("keep"), "old").ok());
  // A directory where the temporary file would go makes the write fail before any rename.
  fs::create_directory(Path("keep") + ".tmp-" + std::to_string(::getpid()));
  auto st = WriteFileAtomic(Path("keep"), "new");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot write"), std::string::npos);
  EXPECT_EQ(*ReadFileToString(Path("keep")), "old");
}

TEST(SplitLines, SplitsAsGetlineDoes) {
  EXPECT_TRUE(SplitLines("").empty());
  EXPECT_EQ(SplitLines("a\nb"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitLines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitLines("\n\nx\r\n"), (std::vector<std::string>{"", "", "x\r"}));
}

TEST_F(FilesTest, WriteIntoMissingDirectoryIsAnError) {
  auto st = WriteFileAtomic(Path("no/such/dir/f"), "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ENOENT);
}

}  // namespace
}  // namespace sandwatch
