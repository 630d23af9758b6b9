// The pure parts of the Infisical client: how a query value is encoded into the target, and how
// Infisical's JSON error envelope is read from an answer (the calls themselves are tested over TLS
// in tests/integration/http_client_test.cpp).

#include "infisical/client.hpp"

#include <gtest/gtest.h>

namespace vp::infisical {
namespace {

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  struct Case {
    std::string_view in, out;
  };
  for (auto [in, out] : {Case{"", ""}, Case{"aZ09-_.~", "aZ09-_.~"}, Case{"/", "%2F"}, Case{" ", "%20"},
                         Case{"a b&c=d", "a%20b%26c%3Dd"}, Case{"/folder/sub", "%2Ffolder%2Fsub"},
                         Case{"\xc3\xa9", "%C3%A9"}, Case{"%", "%25"}, Case{"+?#", "%2B%3F%23"}}) {
    EXPECT_EQ(percent_encode(in), out) << in;
  }
}

Reply reply(std::string body) {
  Reply r;
  r.status = 403;
  r.body = std::move(body);
  return r;
}

TEST(ApiError, ReadsErrorAndMessageOfAJsonObject) {
  auto e = api_error(reply(R"({"statusCode":403,"message":"You are not allowed","error":"PermissionDenied"})"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, "PermissionDenied");
  EXPECT_EQ(e->message, "You are not allowed");

  auto only_message = api_error(reply(R"({"message":"Ok"})"));
  ASSERT_TRUE(only_message);
  EXPECT_EQ(only_message->error, "");
  EXPECT_EQ(only_message->message, "Ok");
}

TEST(ApiError, IsAbsentForAnythingButAnObjectWithEitherField) {
  for (const char* body : {"", "<html>Forbidden</html>", "[]", "\"error\"", R"({"statusCode":403})",
                           R"({"error":7,"message":null})", "{\"error\":\"x\""}) {
    EXPECT_FALSE(api_error(reply(body))) << body;
  }
}

}  // namespace
}  // namespace vp::infisical
