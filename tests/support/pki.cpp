#include "support/pki.hpp"

#include "support/lifetime_pki.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace vp::test {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("pki: ") + what); }

Pkey make_key() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen(P-256)");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) fail("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct Validity {
  long not_before_s;  // relative to now
  long not_after_s;
};

enum class Kind { ca, leaf };

/// Builds a certificate for `key`. `issuer`/`issuer_key` null = self-signed.
Cert make_cert(EVP_PKEY* key, std::string_view cn, Kind kind, std::string_view san_dns,
               X509* issuer, EVP_PKEY* issuer_key, Validity v) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);

  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive, as RFC 5280 §4.1.2.2 requires
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);

  X509_gmtime_adj(X509_getm_notBefore(cert.get()), v.not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), v.not_after_s);
  X509_set_pubkey(cert.get(), key);

  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("vault-proxy tests"), -1, -1, 0);
  std::string cn_s(cn);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn_s.c_str()), -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));

  add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
  // Self-signed: AKI refers to our own SKI, which must exist first (added above).
  add_ext(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
  if (kind == Kind::ca) {
    add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), iss, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), iss, NID_ext_key_usage, "serverAuth");
    std::string san = "DNS:" + std::string(san_dns);
    add_ext(cert.get(), iss, NID_subject_alt_name, san.c_str());
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) fail("X509_sign");
  return cert;
}

std::string cert_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

constexpr long hour = 3600;
constexpr long day = 24 * hour;

}  // namespace

Pki::Pki(std::string_view dns_name, std::string_view wrong) : dir_("vp-pki-"), dns_name_(dns_name) {
  Pkey ca_key = make_key();
  Cert ca = make_cert(ca_key.get(), "vault-proxy test CA", Kind::ca, {}, nullptr, nullptr,
                      {-hour, 7 * day});
  ca_pem = dir_.file("ca.pem");
  write_file(ca_pem, cert_pem(ca.get()), 0644);

  auto leaf = [&](std::string_view stem, std::string_view name, X509* issuer, EVP_PKEY* issuer_key,
                  Validity v) {
    Pkey key = make_key();
    Cert cert = make_cert(key.get(), name, Kind::leaf, name, issuer, issuer_key, v);
    CertFiles files{dir_.file(std::string(stem) + ".pem"), dir_.file(std::string(stem) + ".key")};
    write_file(files.cert, cert_pem(cert.get()), 0644);
    write_file(files.key, key_pem(key.get()), 0600);
    return files;
  };

  valid = leaf("leaf", dns_name, ca.get(), ca_key.get(), {-hour, day});
  wrong_name = leaf("wrong-name", wrong, ca.get(), ca_key.get(), {-hour, day});
  expired = leaf("expired", dns_name, ca.get(), ca_key.get(), {-3 * day, -day});
  self_signed = leaf("self-signed", dns_name, nullptr, nullptr, {-hour, day});

  Pkey other_key = make_key();
  Cert other = make_cert(other_key.get(), "untrusted test CA", Kind::ca, {}, nullptr, nullptr,
                         {-hour, 7 * day});
  untrusted_ca_pem = dir_.file("untrusted-ca.pem");
  write_file(untrusted_ca_pem, cert_pem(other.get()), 0644);
  untrusted = leaf("untrusted", dns_name, other.get(), other_key.get(), {-hour, day});
}

LifetimePki::LifetimePki(std::string_view dns_name, long days) : dir_("vp-lifetime-pki-") {
  Pkey ca_key = make_key();
  Cert ca = make_cert(ca_key.get(), "vault-proxy lifetime test CA", Kind::ca, {}, nullptr, nullptr,
                      {-hour, (days + 30) * day});
  ca_pem = dir_.file("ca.pem");
  write_file(ca_pem, cert_pem(ca.get()), 0644);
  Pkey key = make_key();
  Cert cert = make_cert(key.get(), dns_name, Kind::leaf, dns_name, ca.get(), ca_key.get(), {-hour, days * day});
  leaf = {dir_.file("leaf.pem"), dir_.file("leaf.key")};
  write_file(leaf.cert, cert_pem(cert.get()), 0644);
  write_file(leaf.key, key_pem(key.get()), 0600);
}

}  // namespace vp::test
