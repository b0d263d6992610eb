// The credential store on its own: the file format, prefix matches, what a token may do,
// and a bad file on reload keeping the credentials in force.
#include "sandwatch/receiver/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "http_message.h"

namespace sandwatch::receiver {
namespace {

const std::string kTokA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const std::string kTokB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
const std::string kTokF = "fffffffffffffffffffffffffffffff3";

TEST(Credentials, ParsesLinesCommentsAndPrefixes) {
  auto lines = ParseSensorTokens("# id token\n\nsensor-a " + kTokA + "\n  kata-app-*\t" + kTokB +
                                 "  \r\n@falco " + kTokF);
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0].pattern, "sensor-a");
  EXPECT_EQ((*lines)[1].pattern, "kata-app-*");
  EXPECT_EQ((*lines)[1].token, kTokB);
  EXPECT_EQ((*lines)[2].pattern, "@falco");
}

TEST(Credentials, BadFilesNameTheLineButNeverTheToken) {
  struct Case {
    std::string text;
    const char* expect;
  };
  for (const Case& c : {Case{"sensor-a\n", "line 1: expected \"SENSOR_ID TOKEN\""},
                        Case{"a " + kTokA + "\nb " + kTokB + " extra\n", "line 2"},
                        Case{"sensor-a short\n", "shorter than 16"},
                        Case{"ka*ta " + kTokA + "\n", "'*' is only allowed at the end"},
                        Case{"@admin " + kTokA + "\n", "only @falco"},
                        Case{"sensor-a " + kTokA + "/x\n", "may only hold"},
                        Case{"# nothing\n\n", "no credentials"}}) {
    auto r = ParseSensorTokens(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(kTokA), std::string::npos) << "the token leaked";
  }
}

TEST(Credentials, PatternsMatchExactlyOrByPrefix) {
  EXPECT_TRUE(PatternCovers("sensor-a", "sensor-a"));
  EXPECT_FALSE(PatternCovers("sensor-a", "sensor-ab"));
  EXPECT_FALSE(PatternCovers("sensor-a", "sensor-"));
  EXPECT_TRUE(PatternCovers("kata-app-*", "kata-app-7f3a01bc"));
  EXPECT_TRUE(PatternCovers("kata-app-*", "kata-app-"));
  EXPECT_FALSE(PatternCovers("kata-app-*", "kata-ap"));
  EXPECT_FALSE(PatternCovers("kata-app-*", "runc-app-1"));
  EXPECT_TRUE(PatternCovers("*", "anything"));
  EXPECT_FALSE(PatternCovers("@falco", "@falco")) << "the Falco credential is no sensor id";
}

TEST(Credentials, SameSecretComparesWholeStrings) {
  EXPECT_TRUE(SameSecret(kTokA, kTokA));
  EXPECT_FALSE(SameSecret(kTokA, kTokB));
  EXPECT_FALSE(SameSecret(kTokA.substr(0, 20), kTokA));
  EXPECT_FALSE(SameSecret(kTokA + "x", kTokA));
  EXPECT_FALSE(SameSecret("", kTokA));
}

class TokensFile {
 public:
  TokensFile() {
    std::string tmpl = "/tmp/sw-sensor-tokens-XXXXXX";
    int fd = mkstemp(tmpl.data());
    if (fd >= 0) close(fd);
    path_ = tmpl;
  }
  ~TokensFile() { unlink(path_.c_str()); }
  void Write(const std::string& text) const { std::ofstream(path_, std::ios::trunc) << text; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Credentials, GrantsSayWhatATokenMayDo) {
  TokensFile f;
  f.Write("sensor-a " + kTokA + "\nkata-app-* " + kTokB + "\nsensor-b " + kTokB + "\n@falco " +
          kTokF + "\n");
  auto c = Credentials::Load("", f.path());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ((*c)->Mode(), "per-sensor");
  EXPECT_EQ((*c)->Count(), 4u);

  Grant none = (*c)->Identify("");
  EXPECT_FALSE(none.Authenticated());
  EXPECT_FALSE((*c)->Identify(kTokA + "0").Authenticated());

  Grant a = (*c)->Identify(kTokA);
  EXPECT_TRUE(a.MayUse(Endpoint::kSensor));
  EXPECT_FALSE(a.MayUse(Endpoint::kFalco));
  EXPECT_TRUE(a.Covers("sensor-a"));
  EXPECT_FALSE(a.Covers("sensor-b"));

  Grant b = (*c)->Identify(kTokB);  // on two lines: both ids
  EXPECT_TRUE(b.Covers("kata-app-0001"));
  EXPECT_TRUE(b.Covers("sensor-b"));
  EXPECT_FALSE(b.Covers("sensor-a"));

  Grant falco = (*c)->Identify(kTokF);
  EXPECT_TRUE(falco.MayUse(Endpoint::kFalco));
  EXPECT_FALSE(falco.MayUse(Endpoint::kSensor));
  EXPECT_FALSE(falco.Covers("sensor-a"));
}

TEST(Credentials, SharedAndOpenModes) {
  auto open = Credentials::Load("", "");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ((*open)->Mode(), "open");
  EXPECT_TRUE((*open)->Identify("").Covers("anyone"));

  auto shared = Credentials::Load("s3cret", "");
  ASSERT_TRUE(shared.ok());
  EXPECT_FALSE((*shared)->Identify("").Authenticated());
  EXPECT_FALSE((*shared)->Identify("s3cre").Authenticated());
  Grant g = (*shared)->Identify("s3cret");
  EXPECT_TRUE(g.MayUse(Endpoint::kFalco));
  EXPECT_TRUE(g.Covers("anyone")) << "the shared mode's known weakness";

  TokensFile f;
  f.Write("sensor-a " + kTokA + "\n");
  auto both = Credentials::Load("s3cret", f.path());
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("choose one"), std::string::npos);
}

TEST(Credentials, ReloadSwapsTheTableAndABadFileKeepsTheOldOne) {
  TokensFile f;
  f.Write("sensor-a " + kTokA + "\n");
  auto c = Credentials::Load("", f.path());
  ASSERT_TRUE(c.ok());
  Grant before = (*c)->Identify(kTokA);

  f.Write("sensor-b " + kTokB + "\n");
  ASSERT_TRUE((*c)->Reload().ok());
  EXPECT_FALSE((*c)->Identify(kTokA).Authenticated()) << "revoked";
  EXPECT_TRUE((*c)->Identify(kTokB).Covers("sensor-b"));
  EXPECT_TRUE(before.Covers("sensor-a")) << "a grant in flight stays valid";

  f.Write("sensor-c\n");  // broken: keep sensor-b
  Status st = (*c)->Reload();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("line 1"), std::string::npos) << st.error().message;
  EXPECT_TRUE((*c)->Identify(kTokB).Covers("sensor-b"));

  unlink(f.path().c_str());  // gone: keep sensor-b as well
  EXPECT_FALSE((*c)->Reload().ok());
  EXPECT_TRUE((*c)->Identify(kTokB).Covers("sensor-b"));
  EXPECT_EQ((*c)->Count(), 1u);
}

TEST(Credentials, PresentedTokenPrefersTheHeader) {
  EXPECT_EQ(PresentedToken("Bearer abc", "path"), "abc");
  EXPECT_EQ(PresentedToken("", "path"), "path");
  EXPECT_EQ(PresentedToken("Basic abc", ""), "");
  EXPECT_EQ(PresentedToken("Bearer ", ""), "");
}

HttpRequest Request(std::string path, const std::string& authorization = "") {
  HttpRequest req;
  req.method = "GET";
  req.path = std::move(path);
  req.target = req.path;
  if (!authorization.empty()) req.headers.emplace_back("authorization", authorization);
  return req;
}

TEST(Credentials, FalcoPathTokenOnlyFromFalcoPathsWithTokenCharacters) {
  EXPECT_EQ(FalcoPathToken("/falco/" + kTokA), kTokA);
  EXPECT_EQ(FalcoPathToken("/falco/"), "");
  EXPECT_EQ(FalcoPathToken("/events/" + kTokA), "");
  EXPECT_EQ(FalcoPathToken("/falco/a/b"), "") << "'/' is not a token character";
}

TEST(Credentials, IngestGrantTakesTheHeaderOrTheFalcoPath) {
  auto c = Credentials::Load(kTokA, "");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(IngestGrant(**c, Request("/events", "Bearer " + kTokA)).Authenticated());
  EXPECT_TRUE(IngestGrant(**c, Request("/falco/" + kTokA)).Authenticated());
  EXPECT_FALSE(IngestGrant(**c, Request("/events/" + kTokA)).Authenticated());
  EXPECT_FALSE(IngestGrant(**c, Request("/events", "Bearer " + kTokB)).Authenticated());
}

TEST(Credentials, ReadAllowedNeedsTheUiOrIngestTokenOnceAUiTokenIsSet) {
  ReceiverConfig open;
  EXPECT_TRUE(ReadAllowed(open, Request("/api/events")));
  ReceiverConfig cfg;
  cfg.ui_token = kTokA;
  cfg.token = kTokB;
  EXPECT_FALSE(ReadAllowed(cfg, Request("/api/events")));
  EXPECT_TRUE(ReadAllowed(cfg, Request("/api/events", "Bearer " + kTokA)));
  EXPECT_TRUE(ReadAllowed(cfg, Request("/api/events", "Bearer " + kTokB)));
  EXPECT_FALSE(ReadAllowed(cfg, Request("/api/events", "Bearer " + kTokA + "x")));
  HttpRequest with_param = Request("/api/stream");
  with_param.params.emplace("token", kTokA);
  EXPECT_TRUE(ReadAllowed(cfg, with_param));
  with_param.params.clear();
  with_param.params.emplace("token", kTokB);
  EXPECT_FALSE(ReadAllowed(cfg, with_param)) << "only the UI token rides in the query";
}

}  // namespace
}  // namespace sandwatch::receiver
