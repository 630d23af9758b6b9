#include "support/digest.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace vp::test {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  bool done = false;
  std::string hex;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_DigestInit_ex(sha256) failed");
}

Sha256::~Sha256() {
  if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void Sha256::update(const void* data, std::size_t n) {
  if (impl_->done) throw std::logic_error("Sha256::update after hex()");
  if (n > 0) EVP_DigestUpdate(impl_->ctx, data, n);
}

std::string Sha256::hex() {
  if (!impl_->done) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &len);
    static constexpr char digits[] = "0123456789abcdef";
    impl_->hex.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
      impl_->hex.push_back(digits[md[i] >> 4]);
      impl_->hex.push_back(digits[md[i] & 0xf]);
    }
    impl_->done = true;
  }
  return impl_->hex;
}

std::string sha256_hex(std::string_view s) {
  Sha256 h;
  h.update(s);
  return h.hex();
}

namespace {

const std::array<char, PatternBody::period>& pattern_block() {
  static const auto block = [] {
    std::array<char, PatternBody::period> b{};
    // xorshift32: cheap, deterministic, no visible structure at chunk boundaries.
    std::uint32_t x = 0x9e3779b9u;
    for (auto& c : b) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x & 0xff);
    }
    return b;
  }();
  return block;
}

}  // namespace

void PatternBody::fill(std::uint64_t offset, char* out, std::size_t n) {
  const auto& block = pattern_block();
  std::size_t pos = static_cast<std::size_t>(offset % period);
  while (n > 0) {
    std::size_t take = std::min(n, period - pos);
    std::copy_n(block.data() + pos, take, out);
    out += take;
    n -= take;
    pos = 0;
  }
}

std::string PatternBody::make(std::size_t n) {
  std::string s(n, '\0');
  fill(0, s.data(), n);
  return s;
}

std::string PatternBody::sha256(std::uint64_t n) {
  static std::mutex mu;
  static std::map<std::uint64_t, std::string> cache;
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(n); it != cache.end()) return it->second;
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  std::uint64_t off = 0;
  while (off < n) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - off));
    fill(off, buf.data(), take);
    h.update(buf.data(), take);
    off += take;
  }
  std::string hex = h.hex();
  std::lock_guard lock(mu);
  cache.emplace(n, hex);
  return hex;
}

}  // namespace vp::test
