#pragma once
// A CA and one leaf with a chosen lifetime, for tests that care how long the upstream certificate
// has left (the shared Pki's good leaf lives one day, which `doctor` rightly warns about).

#include "support/pki.hpp"
#include "support/temp_dir.hpp"

#include <string>
#include <string_view>

namespace vp::test {

/// Files live under dir() and vanish with the object.
class LifetimePki {
 public:
  /// A fresh CA and a leaf for `dns_name`, valid from one hour ago for `days` days.
  LifetimePki(std::string_view dns_name, long days);

  const std::string& dir() const noexcept { return dir_.path(); }

  std::string ca_pem;  ///< the CA certificate (the client's CA bundle)
  CertFiles leaf;      ///< the leaf certificate and key

 private:
  TempDir dir_;
};

}  // namespace vp::test
