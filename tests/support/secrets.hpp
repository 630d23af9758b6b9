#pragma once
// Assertions that secret bytes appear nowhere in captured output. A failure names where the leak is
// but never prints the secret itself (CI logs are outputs too).

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vp::test {

/// Shortest run of secret bytes that counts as a leak: catches truncated or partially masked copies
/// without false positives from short common substrings.
inline constexpr std::size_t min_leak_run = 12;

/// Success when neither `secret` nor any min_leak_run-byte slice of it occurs in `haystack`.
/// `what` names the haystack in the failure message.
inline ::testing::AssertionResult no_secret_in(std::string_view haystack, std::string_view secret,
                                               std::string_view what = "output") {
  if (secret.empty()) return ::testing::AssertionFailure() << "no_secret_in: empty secret (test bug)";
  const std::size_t run = std::min(secret.size(), min_leak_run);
  for (std::size_t i = 0; i + run <= secret.size(); ++i) {
    auto pos = haystack.find(secret.substr(i, run));
    if (pos != std::string_view::npos) {
      return ::testing::AssertionFailure()
             << what << " contains " << (run == secret.size() ? "the whole" : "a slice of the")
             << " secret (secret len=" << secret.size() << ", slice offset " << i << ", length " << run
             << ") at byte " << pos << " of " << haystack.size();
    }
  }
  return ::testing::AssertionSuccess();
}

/// The brief's spelling: a non-fatal expectation that `secret` does not occur in `haystack`.
inline void expect_no_secret(std::string_view haystack, std::string_view secret, std::string_view what = "output") {
  EXPECT_TRUE(no_secret_in(haystack, secret, what));
}

/// `n` random bytes as lowercase hex (2n characters): a fresh credential per test.
inline std::string random_token(std::size_t n = 16) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

}  // namespace vp::test

/// EXPECT that `secret` never occurs in `haystack`.
#define EXPECT_NO_SECRET(haystack, secret) EXPECT_TRUE(::vp::test::no_secret_in((haystack), (secret), #haystack))
/// ASSERT that `secret` never occurs in `haystack`.
#define ASSERT_NO_SECRET(haystack, secret) ASSERT_TRUE(::vp::test::no_secret_in((haystack), (secret), #haystack))
