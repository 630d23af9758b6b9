#include "core/credentials.hpp"

#include <openssl/evp.h>

#include <array>

namespace vp::core {

std::string ServiceToken::fingerprint() const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, client_id.reveal().data(), client_id.size());
  EVP_DigestUpdate(ctx, "\0", 1);
  EVP_DigestUpdate(ctx, client_secret.reveal().data(), client_secret.size());
  EVP_DigestFinal_ex(ctx, md.data(), &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 6; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

void CredentialStore::replace(ServiceToken token) {
  token.version = versions_.fetch_add(1, std::memory_order_relaxed) + 1;
  token_.store(std::make_shared<const ServiceToken>(std::move(token)), std::memory_order_release);
}

void CredentialStore::clear() noexcept { token_.store(nullptr, std::memory_order_release); }

}  // namespace vp::core
