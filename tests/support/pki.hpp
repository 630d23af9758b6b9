#pragma once
// A throwaway PKI generated at test time with the OpenSSL 3 API (EC P-256, so it takes milliseconds):
// a trusted CA and the leaf certificates the TLS tests need, written as PEM into a fresh temp dir.

#include "support/temp_dir.hpp"

#include <string>
#include <string_view>

namespace vp::test {

/// A certificate and its private key, as PEM file paths.
struct CertFiles {
  std::string cert;  ///< PEM certificate (leaf only; the CA is in Pki::ca_pem)
  std::string key;   ///< PEM PKCS#8 private key, mode 0600
};

/// Everything a TLS test needs. Files live under dir() and vanish with the object.
class Pki {
 public:
  /// Generates the CA and leaves. `dns_name` goes into the SAN of the good leaf; `wrong_name` into the
  /// SAN (and CN) of the wrong-name leaf.
  explicit Pki(std::string_view dns_name = "vault.test", std::string_view wrong_name = "wrong.test");

  const std::string& dir() const noexcept { return dir_.path(); }
  const std::string& dns_name() const noexcept { return dns_name_; }

  /// The trusted CA certificate (give this to the client as its CA bundle).
  std::string ca_pem;
  /// (a) valid leaf for dns_name(), signed by the CA, valid from one hour ago for one day.
  CertFiles valid;
  /// (b) leaf for a different name, signed by the trusted CA: hostname verification must fail.
  CertFiles wrong_name;
  /// (c) leaf for dns_name(), signed by the CA, whose notAfter is in the past.
  CertFiles expired;
  /// (d) self-signed leaf for dns_name() (not issued by the trusted CA).
  CertFiles self_signed;
  /// (d') leaf for dns_name() issued by a second CA that the client does not trust.
  CertFiles untrusted;
  /// The untrusted second CA, in case a test wants to trust it explicitly.
  std::string untrusted_ca_pem;

 private:
  TempDir dir_;
  std::string dns_name_;
};

}  // namespace vp::test
