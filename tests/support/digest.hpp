#pragma once
// Streaming checksums and a deterministic generated body, so large-body tests compare digests instead
// of holding hundreds of megabytes in memory.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vp::test {

/// Incremental SHA-256 (OpenSSL EVP). Feed bytes in any chunking; hex() gives the lowercase digest.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// Finalises (once) and returns the digest as 64 lowercase hex characters.
  std::string hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// SHA-256 of `s` as lowercase hex.
std::string sha256_hex(std::string_view s);

/// A deterministic pseudo-random byte stream. Its period (65521, a prime) does not line up with
/// power-of-two buffer sizes, so a relay that drops, repeats or reorders a buffer changes the digest.
class PatternBody {
 public:
  static constexpr std::size_t period = 65521;
  /// Copies `n` bytes of the pattern starting at absolute `offset` into `out`.
  static void fill(std::uint64_t offset, char* out, std::size_t n);
  /// The first `n` bytes as a string (for small bodies).
  static std::string make(std::size_t n);
  /// SHA-256 hex of the first `n` bytes, computed in chunks (cached per size).
  static std::string sha256(std::uint64_t n);
};

}  // namespace vp::test
