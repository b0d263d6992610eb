#include "sandwatch/attack_sim/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace sandwatch::attacksim {
namespace {

TEST(Target, ParsesHostPortForms) {
  auto a = ParseTarget("127.0.0.1:4444");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4444);
  auto b = ParseTarget("[::1]:80");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 80);
  EXPECT_FALSE(ParseTarget("127.0.0.1").ok());
  EXPECT_FALSE(ParseTarget("127.0.0.1:0").ok());
  EXPECT_FALSE(ParseTarget("127.0.0.1:70000").ok());
  EXPECT_FALSE(ParseTarget(":4444").ok());
  EXPECT_FALSE(ParseTarget("::1:4444").ok());  // v6 needs brackets
  EXPECT_FALSE(ParseTarget("a;b:4444").ok());
}

TEST(Target, LoopbackCoversV4RangeV6AndLocalhostOnly) {
  for (const char* h :
       {"127.0.0.1", "127.255.1.2", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.9", "localhost"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h : {"10.244.0.1", "128.0.0.1", "192.168.1.1", "::2", "example.com",
                        "localhost.example.com", "0.0.0.0", "::ffff:10.0.0.1", ""}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

TEST(ResolveRun, RefusesRemoteTargetWithoutAllowRemote) {
  RunOptions o;
  o.target = "10.244.0.1:4444";
  auto c = ResolveRun(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind("--target:", 0), 0u) << c.error().message;
  o.allow_remote = true;
  auto d = ResolveRun(o);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->in_process_listener);
  EXPECT_EQ(d->target.host, "10.244.0.1");
}

TEST(ResolveRun, PresetThenGlobalThenPerStepOverrides) {
  RunOptions o;
  o.speed = "human";
  o.hold_specs = {"300", "shadow=50"};
  o.gap_specs = {"aws-creds=7,new-binary=9"};
  auto c = ResolveRun(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->timing.at("shadow").hold_ms, 50);
  EXPECT_EQ(c->timing.at("aws-creds").hold_ms, 300);
  EXPECT_EQ(c->timing.at("aws-creds").gap_ms, 7);
  EXPECT_EQ(c->timing.at("new-binary").gap_ms, 9);
  EXPECT_EQ(c->timing.at("shell").gap_ms, 2000);  // human preset
  EXPECT_EQ(c->steps.size(), 6u);
}

TEST(ResolveRun, BadValuesNameTheFlag) {
  struct Case {
    void (*set)(RunOptions*);
    const char* flag;
  };
  const std::vector<Case> cases = {
      {[](RunOptions* o) { o->speed = "warp"; }, "--speed:"},
      {[](RunOptions* o) { o->hold_specs = {"-5"}; }, "--hold-ms:"},
      {[](RunOptions* o) { o->hold_specs = {"nosuch=5"}; }, "--hold-ms:"},
      {[](RunOptions* o) { o->gap_specs = {"abc"}; }, "--gap-ms:"},
      {[](RunOptions* o) { o->repeat = 0; }, "--repeat:"},
      {[](RunOptions* o) { o->steps = "shadow,bogus"; }, "--steps:"},
      {[](RunOptions* o) { o->variant_specs = {"shadow=vim"}; }, "--variant:"},
      {[](RunOptions* o) { o->variant_specs = {"nosuchtool"}; }, "--variant:"},
      {[](RunOptions* o) { o->package_install = "maybe"; }, "--package-install:"},
      {[](RunOptions* o) { o->chain = "other"; }, "--chain:"},
      {[](RunOptions* o) { o->drop_dir = "relative"; }, "--drop-dir:"},
      {[](RunOptions* o) { o->package = "x;rm"; }, "--package:"},
  };
  for (const auto& c : cases) {
    RunOptions o;
    c.set(&o);
    auto r = ResolveRun(o);
    ASSERT_FALSE(r.ok()) << c.flag;
    EXPECT_EQ(r.error().message.rfind(c.flag, 0), 0u) << r.error().message;
  }
}

TEST(ResolveRun, StepsKeepChainOrderAndBareVariantsFindTheirStep) {
  RunOptions o;
  o.steps = "reverse-shell,shadow";
  o.variant_specs = {"socat", "shadow=head"};
  auto c = ResolveRun(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->steps.size(), 2u);
  EXPECT_EQ(c->steps[0], "shadow");
  EXPECT_EQ(c->steps[1], "reverse-shell");
  EXPECT_EQ(c->variants.at("reverse-shell"), "socat");
  EXPECT_EQ(c->variants.at("shadow"), "head");
  o.variant_specs = {"ncat"};  // both new-binary and reverse-shell have one
  auto d = ResolveRun(o);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("ambiguous"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::attacksim
