#include "support/lifetime_pki.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace vp::test {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("lifetime_pki: ") + what); }

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

/// `issuer` null: a self-signed CA; otherwise a serverAuth leaf for `name`.
Cert make_cert(EVP_PKEY* key, const std::string& name, X509* issuer, EVP_PKEY* issuer_key, long seconds) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive (RFC 5280 §4.1.2.2)
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), seconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()),
                             -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
  add_ext(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
  if (issuer == nullptr) {
    add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), iss, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), iss, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), iss, NID_subject_alt_name, ("DNS:" + name).c_str());
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) fail("X509_sign");
  return cert;
}

template <class F>
std::string pem(F write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

LifetimePki::LifetimePki(std::string_view dns_name, long days) : dir_("vp-lifetime-pki-") {
  constexpr long day = 24 * 3600;
  Pkey ca_key = make_key();
  Cert ca = make_cert(ca_key.get(), "vault-proxy lifetime test CA", nullptr, nullptr, (days + 30) * day);
  ca_pem = dir_.file("ca.pem");
  write_file(ca_pem, pem([&](BIO* b) { PEM_write_bio_X509(b, ca.get()); }), 0644);

  Pkey key = make_key();
  Cert cert = make_cert(key.get(), std::string(dns_name), ca.get(), ca_key.get(), days * day);
  leaf = {dir_.file("leaf.pem"), dir_.file("leaf.key")};
  write_file(leaf.cert, pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); }), 0644);
  write_file(leaf.key, pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); }),
             0600);
}

}  // namespace vp::test
