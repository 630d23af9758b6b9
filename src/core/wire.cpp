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

void append_fields(std::string& out, const http::fields& fields) {
  for (const auto& f : fields) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

void append_request_header(std::string& out, const http::request_header<>& req) {
  out += req.method_string();
  out += ' ';
  out += req.target();
  out += ' ';
  append_version(out, req.version());
  out += "\r\n";
  append_fields(out, req);
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
}

void append_chunk_size(std::string& out, std::size_t size) {
  char buf[2 * sizeof(std::size_t)];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, size, 16);
  out.append(buf, end);
  out += "\r\n";
}

}  // namespace vp::core
