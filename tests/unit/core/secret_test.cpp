#include "core/credentials.hpp"
#include "core/redact.hpp"
#include "core/secret.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace vp::core {
namespace {

TEST(Secret, FormatsAsRedactedWithLength) {
  Secret s("hunter2-very-secret");
  auto text = fmt::format("token={}", s);
  EXPECT_EQ(text, "token=<redacted len=19>");
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
}

TEST(Secret, MoveLeavesSourceEmpty) {
  Secret a("abcdefghijklmnopqrstuvwxyz");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the wipe is what is tested
  EXPECT_EQ(b.reveal(), "abcdefghijklmnopqrstuvwxyz");
  Secret small("short");
  Secret c(std::move(small));
  EXPECT_TRUE(small.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.reveal(), "short");
}

TEST(Secret, WipeZeroesSpareCapacity) {
  std::string s = "0123456789abcdefghijklmnop";
  const char* data = s.data();
  auto cap = s.capacity();
  wipe(s);
  EXPECT_TRUE(s.empty());
  for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(data[i], '\0') << i;
}

TEST(Secret, EqualityComparesBytes) {
  EXPECT_EQ(Secret("abc"), Secret("abc"));
  EXPECT_FALSE(Secret("abc") == Secret("abd"));
  EXPECT_FALSE(Secret("abc") == Secret("abcd"));
}

TEST(CredentialStore, ReplaceBumpsVersionAndClearEmpties) {
  CredentialStore store;
  EXPECT_EQ(store.current(), nullptr);
  ServiceToken t;
  t.client_id = Secret("id");
  t.client_secret = Secret("secret");
  store.replace(t);
  auto first = store.current();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->version, 1u);
  store.replace(t);
  EXPECT_EQ(store.current()->version, 2u);
  EXPECT_EQ(first->version, 1u);  // a reader's snapshot is unaffected by a swap
  store.clear();
  EXPECT_EQ(store.current(), nullptr);
}

TEST(ServiceToken, FingerprintIsStableShortAndNotTheValue) {
  ServiceToken t;
  t.client_id = Secret("client-id-value");
  t.client_secret = Secret("client-secret-value");
  auto fp = t.fingerprint();
  EXPECT_EQ(fp.size(), 12u);
  EXPECT_EQ(fp, t.fingerprint());
  ServiceToken u;
  u.client_id = Secret("client-id-value");
  u.client_secret = Secret("client-secret-valuf");
  EXPECT_NE(fp, u.fingerprint());
}

TEST(Redact, ReplacesEveryOccurrenceOfEveryValue) {
  auto out = core::redact("a=SECRETVALUE b=SECRETVALUE c=IDVALUE!",
                          {"SECRETVALUE", "IDVALUE", "ab"});
  EXPECT_EQ(out, "a=<redacted> b=<redacted> c=<redacted>!");
}

TEST(Redact, OverlappingAndAdjacentOccurrences) {
  EXPECT_EQ(core::redact("xxxxxxxx", {"xxxx"}), "<redacted><redacted>");
  EXPECT_EQ(core::redact("no secrets here", {"zzzz"}), "no secrets here");
}

TEST(RedactionSet, GlobalSetScrubsAndClears) {
  auto& set = core::RedactionSet::global();
  set.clear();
  set.add("s3cr3t-value");
  EXPECT_EQ(set.apply("leak s3cr3t-value"), "leak <redacted>");
  set.clear();
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.apply("leak s3cr3t-value"), "leak s3cr3t-value");
}

}  // namespace
}  // namespace vp::core
