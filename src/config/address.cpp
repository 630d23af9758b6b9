#include "config/address.hpp"

#include "config/text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace vp::config {

namespace {

/// A DNS name as used for SNI and the certificate check (RFC 1123 labels; '_' tolerated because
/// internal names use it). Returns the lowercased name, or sets `problem`.
std::optional<std::string> check_hostname(std::string_view host, std::string& problem) {
  if (host.empty()) {
    problem = "has no host";
    return std::nullopt;
  }
  if (host.size() > 253) {
    problem = "host name is longer than 253 characters";
    return std::nullopt;
  }
  if (host.back() == '.') {
    // RFC 6066 §3: SNI carries the name without the trailing dot.
    problem = "host " + quote(host) + " ends with a dot";
    return std::nullopt;
  }
  bool numeric = true;
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      problem = "host " + quote(host) + " is not a valid host name";
      return std::nullopt;
    }
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '_';
      if (!ok) {
        problem = "host " + quote(host) + " is not a valid host name";
        return std::nullopt;
      }
      if (c < '0' || c > '9') numeric = false;
    }
    start = dot + 1;
  }
  // All-digit names are read as IPv4 by resolvers (and inet_aton accepts "1.2.3" or "010.0.0.1"), so
  // demand the strict dotted quad instead of dialling something unexpected.
  if (numeric && !is_ipv4(host)) {
    problem = "host " + quote(host) + " is not a valid IPv4 address";
    return std::nullopt;
  }
  return lower(host);
}

/// Splits "host:port" or "[v6]:port"; `port` is empty when there is no ":port".
struct HostPort {
  std::string host;  // without brackets
  std::optional<std::string_view> port;
  bool bracketed = false;
};

std::optional<HostPort> split_host_port(std::string_view s, std::string& problem) {
  HostPort hp;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) {
      problem = "has '[' without a closing ']'";
      return std::nullopt;
    }
    std::string_view inner = s.substr(1, close - 1);
    if (!is_ipv6(inner)) {
      problem = quote(s.substr(0, close + 1)) + " is not an IPv6 address in brackets";
      return std::nullopt;
    }
    hp.host = lower(inner);
    hp.bracketed = true;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        problem = "has " + quote(rest) + " after the IPv6 address";
        return std::nullopt;
      }
      hp.port = rest.substr(1);
    }
    return hp;
  }
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    hp.host = std::string(s);
    return hp;
  }
  if (s.substr(0, colon).find(':') != std::string_view::npos) {
    problem = "has an IPv6 address without brackets";
    return std::nullopt;
  }
  hp.host = std::string(s.substr(0, colon));
  hp.port = s.substr(colon + 1);
  return hp;
}

/// Host part of an upstream or connect_to: a bracketed IPv6 literal was checked by the splitter;
/// anything else must be a host name or dotted-quad IPv4.
std::optional<std::string> check_host(const HostPort& hp, std::string& problem) {
  if (hp.bracketed) return hp.host;
  return check_hostname(hp.host, problem);
}

std::optional<std::uint16_t> check_port(std::string_view text, std::string& problem) {
  auto v = parse_decimal(text);
  if (!v || *v < 1 || *v > 65535) {
    problem = "port " + quote(text) + " is not a number from 1 to 65535";
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(*v);
}

}  // namespace

bool is_ipv4(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return false;
  in_addr a{};
  return ::inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool is_ipv6(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return false;
  in6_addr a{};
  return ::inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

UpstreamParse parse_upstream_detail(std::string_view url) {
  UpstreamParse r;
  const std::string generic_fix = "write it as https://host or https://host:port, e.g. https://vault.raxx.app";
  auto fail = [&](std::string problem, std::string fix) {
    r.problem = std::move(problem);
    r.fix = std::move(fix);
    return r;
  };
  if (url.empty()) return fail("is empty", generic_fix);
  auto scheme_end = url.find("://");
  auto authority_start = url.find_first_of("/?#@");
  // Userinfo may hold a password, so the value is never quoted once an '@' is seen before the path.
  std::string_view after_scheme = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  std::string_view authority_part = after_scheme.substr(0, after_scheme.find_first_of("/?#"));
  if (authority_part.find('@') != std::string_view::npos ||
      (scheme_end != std::string_view::npos && url.substr(0, scheme_end).find('@') != std::string_view::npos))
    return fail("contains user:password@ credentials (value not shown)",
                "remove the user:password@ part; the proxy authenticates upstream with the service token");
  if (!printable_ascii(url) || url.find(' ') != std::string_view::npos)
    return fail(quote(url) + " contains a space or control character", generic_fix);
  if (scheme_end == std::string_view::npos || (authority_start != std::string_view::npos &&
                                               authority_start < scheme_end))
    return fail(quote(url) + " has no https:// scheme", "write https://" + std::string(url));
  std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "http")
    return fail(quote(url) + " uses plain http",
                "TLS is mandatory: use https://" + std::string(after_scheme) +
                    " (the service token must never travel unencrypted)");
  if (scheme != "https")
    return fail(quote(url) + " has the scheme " + quote(scheme) + ", not https", generic_fix);

  std::string_view rest = after_scheme.substr(authority_part.size());
  if (auto q = rest.find('?'); q != std::string_view::npos && rest.find('#') > q)
    return fail(quote(url) + " has a query string",
                "remove everything from '?'; the proxy forwards each client's own path and query");
  if (rest.find('#') != std::string_view::npos)
    return fail(quote(url) + " has a fragment", "remove everything from '#'");
  if (!rest.empty() && rest != "/")
    return fail(quote(url) + " has the path " + quote(rest),
                "give only scheme, host and port; the proxy forwards each client's own path");

  std::string problem;
  auto hp = split_host_port(authority_part, problem);
  if (!hp) return fail(quote(url) + " " + problem, generic_fix);
  auto host = check_host(*hp, problem);
  if (!host) return fail(quote(url) + " " + problem, generic_fix);
  Upstream up;
  up.host = std::move(*host);
  if (hp->port) {
    auto port = check_port(*hp->port, problem);
    if (!port) return fail(quote(url) + " " + problem, generic_fix);
    up.port = *port;
  }
  r.upstream = std::move(up);
  return r;
}

ConnectToParse parse_connect_to(std::string_view s) {
  ConnectToParse r;
  std::string problem;
  if (s.find("://") != std::string_view::npos) {
    r.problem = quote(s) + " is a URL, not host:port";
    return r;
  }
  auto hp = split_host_port(s, problem);
  if (!hp) {
    r.problem = quote(s) + " " + problem;
    return r;
  }
  if (!hp->port) {
    r.problem = quote(s) + " has no :port";
    return r;
  }
  auto host = check_host(*hp, problem);
  if (!host) {
    r.problem = quote(s) + " " + problem;
    return r;
  }
  auto port = check_port(*hp->port, problem);
  if (!port) {
    r.problem = quote(s) + " " + problem;
    return r;
  }
  r.target = ConnectTo{std::move(*host), *port};
  return r;
}

std::optional<Upstream> parse_upstream(std::string_view url, std::string& problem) {
  auto r = parse_upstream_detail(url);
  if (!r.upstream) problem = r.problem;
  return r.upstream;
}

}  // namespace vp::config
