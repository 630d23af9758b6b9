#include "core/secret.hpp"

#include <openssl/crypto.h>

namespace vp::core {

void wipe(std::string& s) noexcept {
  // capacity() covers bytes a shorter later value left behind; OPENSSL_cleanse is not optimised away.
  if (s.capacity() > 0) OPENSSL_cleanse(s.data(), s.capacity());
  s.clear();
}

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { wipe(other.value_); }

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe(value_);
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe(value_);
    value_ = std::move(other.value_);
    wipe(other.value_);
  }
  return *this;
}

Secret::~Secret() { wipe(value_); }

void Secret::clear() noexcept { wipe(value_); }

bool operator==(const Secret& a, const Secret& b) noexcept {
  return a.value_.size() == b.value_.size() &&
         CRYPTO_memcmp(a.value_.data(), b.value_.data(), a.value_.size()) == 0;
}

}  // namespace vp::core
