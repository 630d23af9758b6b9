#include "core/wire.hpp"

#include <charconv>

namespace vp::core {
namespace {

void append_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void append_fields(std::string& out, const http::fields& fields) {
  for (const auto& f : fields) append_field(out, f.name_string(), f.value());
}

// rewrite_request's set() calls, in their order, as bytes.
void append_injected(std::string& out, const Injection& inj) {
  append_field(out, "Host", inj.host_header);
  append_field(out, "User-Agent", inj.user_agent);
  if (inj.token != nullptr) {
    append_field(out, "CF-Access-Client-Id", inj.token->client_id.reveal());
    append_field(out, "CF-Access-Client-Secret", inj.token->client_secret.reveal());
  }
  if (inj.bearer != nullptr) {
    out += "Authorization: Bearer ";
    out += inj.bearer->reveal();
    out += "\r\n";
  }
}

}  // namespace

void append_request_header(std::string& out, const http::request_header<>& req, const Injection* injected) {
  out += req.method_string();
  out += ' ';
  out += req.target();
  out += ' ';
  append_version(out, req.version());
  out += "\r\n";
  append_fields(out, req);
  if (injected != nullptr) append_injected(out, *injected);
  out += "\r\n";
}

void append_response_header(std::string& out, const http::response_header<>& res) {
  append_version(out, res.version());
  char code[4];
  unsigned status = res.result_int();
  code[0] = static_cast<char>('0' + status / 100 % 10);
  code[1] = static_cast<char>('0' + status / 10 % 10);
  code[2] = static_cast<char>('0' + status % 10);
  code[3] = ' ';
  out += ' ';
  out.append(code, 4);
  auto reason = res.reason();
  out += reason.empty() ? http::obsolete_reason(res.result()) : reason;
  out += "\r\n";
  append_fields(out, res);
  out += "\r\n";
}

void append_chunk_size(std::string& out, std::size_t size) {
  char buf[2 * sizeof(std::size_t)];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, size, 16);
  out.append(buf, end);
  out += "\r\n";
}

}  // namespace vp::core
