#pragma once
// What the verdict tables of doctor share: answers as the gather functions record them (what the
// vault, Cloudflare or the proxy sent, without any socket), and the table runner.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "cli/doctor_judge.hpp"

namespace vp::test::doctor {

using vp::cli::doctor::Answer;
using vp::cli::doctor::CheckResult;
using vp::cli::doctor::Status;
using vp::core::Diagnosis;

inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

/// A verdict's status and message, and a piece its fix must hold ("" means no fix at all).
struct Expect {
  Status status;
  std::string message;
  std::string fix_has;
};

inline void expect_verdict(const CheckResult& c, const Expect& e) {
  EXPECT_EQ(c.status, e.status);
  EXPECT_EQ(c.message, e.message);
  if (e.fix_has.empty()) {
    EXPECT_EQ(c.fix, "");
  } else {
    EXPECT_TRUE(contains(c.fix, e.fix_has)) << c.fix;
  }
}

/// One row of a verdict table: an observation and what its verdict must say.
template <class Observation>
struct Row {
  std::string name;
  Observation observed;
  Expect expect;
  std::optional<std::string> detail = std::nullopt;  ///< nullopt: not compared
};

/// Judges every row and compares.
template <class Observation, class Judge>
void expect_table(const std::vector<Row<Observation>>& rows, Judge judge) {
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    const CheckResult c = judge(row.observed);
    expect_verdict(c, row.expect);
    if (row.detail) {
      EXPECT_EQ(c.detail, *row.detail);
    }
  }
}

/// An answer with `status`, classified as `d` by core::classify.
inline Answer answer(unsigned status, Diagnosis d = Diagnosis::none, std::string content_type = "") {
  Answer a;
  a.answered = true;
  a.status = status;
  a.diagnosis = d;
  a.content_type = std::move(content_type);
  return a;
}

/// A transport failure.
inline Answer no_answer(std::string error) {
  Answer a;
  a.error = std::move(error);
  return a;
}

/// Access's redirect of a request without a valid token to its login page.
inline Answer access_login_redirect() {
  Answer a = answer(302, Diagnosis::cf_access_unauthenticated, "text/html");
  a.location = "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.test?kid=0123abcd";
  return a;
}

/// What the proxy relays: its own error code, or the class it names in X-Vault-Proxy-Diagnosis.
inline Answer relayed(unsigned status, std::string proxy_error, std::string proxy_diagnosis = "",
                      std::string api_message = "") {
  Answer a = answer(status, Diagnosis::none, "application/json");
  a.proxy_error = std::move(proxy_error);
  a.proxy_diagnosis = std::move(proxy_diagnosis);
  a.api_message = std::move(api_message);
  return a;
}

/// Infisical's own JSON error, passed through the proxy unchanged.
inline Answer infisical_error(unsigned status, Diagnosis d, std::string message) {
  Answer a = answer(status, d, "application/json; charset=utf-8");
  a.api_message = std::move(message);
  return a;
}

}  // namespace vp::test::doctor
