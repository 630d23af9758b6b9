#pragma once
// The per-connection session, shared by its two source files: session.cpp (the request loop,
// admission, local answers and errors) and exchange.cpp (forward: one request's exchange with the
// upstream, in named steps). Internal to proxy/; the public entry points are in worker.hpp.

#include "core/audit.hpp"
#include "core/diagnosis.hpp"
#include "core/framing.hpp"
#include "core/plan.hpp"
#include "core/token_life.hpp"
#include "net/token_slot.hpp"
#include "net/deadline.hpp"
#include "proxy/access_log.hpp"
#include "proxy/read_header.hpp"
#include "proxy/worker.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>

namespace vp::proxy::detail {

inline constexpr core::HeaderLimits header_limits{};  // 64 KiB block, 8 KiB start line
inline constexpr std::size_t relay_buffer_size = BlockPool::small_size;  // a client body read at a time
inline constexpr std::size_t record_buffer_size = 17 * 1024;  // a TLS record's payload and overhead

/// How a request ended, for the caller's keep-alive decision.
enum class Outcome { keep_alive, close, abort };

/// What a step of forward() leaves to do: go on, start again on a new connection, or stop with
/// Exchange::outcome (the client has been answered, or is to be reset).
enum class Next { proceed, retry, done };

/// What the guardrails found out about one request (guard.cpp): its facts, and the policy's verdict.
struct Guard {
  const core::Policy* policy = nullptr;  ///< the listener's, when the request began; null: none
  core::ApiCall call;
  core::Decision decision;
  bool body_held = false;  ///< the whole body was read to decide, and sits in the relay buffer
};

/// One request's exchange with the upstream, carried from one step of forward() to the next.
struct Exchange {
  Exchange(http::request_parser<http::buffer_body>& p, AccessRecord& r, bool body_held)
      : req_p(p),
        rec(r),
        client_version(p.get().version()),
        client_keep_alive(p.get().keep_alive()),
        has_body(!p.is_done() || body_held),
        body_held(body_held),
        chunked_body(p.chunked()),
        idempotent(core::is_idempotent(p.get().method())),
        is_head(p.get().method() == http::verb::head) {}

  http::request_parser<http::buffer_body>& req_p;
  AccessRecord& rec;
  const unsigned client_version;
  const bool client_keep_alive;
  const bool has_body;
  const bool body_held;  ///< the body was read whole before the exchange (Guard::body_held)
  const bool chunked_body;
  const bool idempotent;
  const bool is_head;
  bool waits_for_continue = false;  ///< Expect: 100-continue from an HTTP/1.1 client
  std::shared_ptr<const core::ServiceToken> token;  ///< held while the header may be (re)sent
  core::Injection injection;  ///< written into the header's bytes (core::InjectInto::wire)
  bool holding = false;             ///< relay_ holds a body piece not yet sent upstream

  /// Auto-auth: the real token that replaces the client's placeholder, held until the exchange ends
  /// (a request in flight finishes with the token it started with); null otherwise.
  std::shared_ptr<const net_token::AccessToken> access;

  std::unique_ptr<net_upstream::Connection> conn;
  bool reused = false;  ///< conn came from the pool
  std::optional<http::response_parser<http::buffer_body>> res_p;
  core::ResponseFraming framing;  ///< the response's, as parsed with its header
  bool upstream_keep_alive = false;
  std::string peek;          ///< an error body read for classification
  bool header_sent = false;  ///< the response header went to the client
  bool chunk_out = false;    ///< the client's body is chunk-framed
  Outcome outcome = Outcome::abort;

  /// Records `o` as the outcome and stops the exchange.
  Next finish(Outcome o) {
    outcome = o;
    return Next::done;
  }
};

template <class Protocol>
class Session {
 public:
  using socket_type = typename Protocol::socket;

  Session(Worker& w, socket_type socket);
  ~Session();

  net::awaitable<void> run();

 private:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t listener_index =
      std::is_same_v<Protocol, tcp> ? Shared::tcp_listener : Shared::unix_listener;

  // session.cpp
  net::awaitable<Outcome> serve_one(http::request_parser<http::buffer_body>& req_p);
  net::awaitable<Outcome> serve_api(http::request_parser<http::buffer_body>& req_p, AccessRecord& rec);
  net::awaitable<Outcome> respond_error(core::ErrorCode code, std::string_view message, unsigned version,
                                        bool keep_alive, AccessRecord& rec);
  net::awaitable<Outcome> respond(http::response<http::string_body>& res, bool keep_alive,
                                  AccessRecord& rec);
  net::awaitable<Outcome> refuse_body(core::BodyFault fault, const error_code& ec, unsigned version,
                                      AccessRecord& rec);
  void log(const AccessRecord& rec, clock::time_point start);
  void abort_client();

  // guard.cpp: the local policy (and the facts the audit trail records).
  net::awaitable<std::optional<Outcome>> apply_policy(http::request_parser<http::buffer_body>& req_p, Guard& g,
                                                      AccessRecord& rec);
  net::awaitable<bool> hold_body(http::request_parser<http::buffer_body>& req_p, error_code& ec);
  net::awaitable<std::optional<Outcome>> hold_for_audit(http::request_parser<http::buffer_body>& req_p, Guard& g,
                                                        AccessRecord& rec);
  net::awaitable<void> find_peer();
  void write_audit(const Guard& g, const AccessRecord& rec);

  // auth_calls.cpp: auto-auth's local answers to the Infisical auth endpoints.
  net::awaitable<Outcome> answer_auth_call(http::request_parser<http::buffer_body>& req_p, core::AuthCall call,
                                           AccessRecord& rec);
  net::awaitable<std::optional<core::Secret>> read_small_body(http::request_parser<http::buffer_body>& req_p,
                                                        std::size_t limit);

  // exchange.cpp: forward() and its steps, in the order they run.
  net::awaitable<Outcome> forward(http::request_parser<http::buffer_body>& req_p, AccessRecord& rec,
                                  bool body_held);
  net::awaitable<Next> take_access_token(Exchange& x);
  bool prepare_request(Exchange& x);
  net::awaitable<Next> read_first_piece(Exchange& x);
  net::awaitable<error_code> read_piece(Exchange& x);
  net::awaitable<Next> send_request_header(Exchange& x, int attempt);
  net::awaitable<Next> relay_request_body(Exchange& x);
  net::awaitable<Next> read_response_header(Exchange& x, int attempt);
  net::awaitable<Next> response_header_failed(Exchange& x, const HeaderRead& hr, int attempt);
  net::awaitable<Next> read_error_body(Exchange& x);
  net::awaitable<Outcome> answer_replacement(Exchange& x, core::Diagnosis diagnosis);
  net::awaitable<Outcome> relay_response(Exchange& x, core::Diagnosis diagnosis);
  net::awaitable<Next> relay_length_body(Exchange& x);
  net::awaitable<Next> relay_parsed_body(Exchange& x);
  net::awaitable<bool> send_piece(Exchange& x, const char* data, std::size_t size, bool more);
  net::awaitable<Next> cut_short(Exchange& x, const error_code& ec);
  net::awaitable<Next> fail(Exchange& x, core::ErrorCode code, const std::string& detail);
  void note_upstream_error(core::ErrorCode code, const std::string& detail, AccessRecord& rec);

  // Appends a body piece to `out` framed for its receiver: as it is for a Content-Length (or
  // close-delimited) body; for a chunked one as a chunk, with the last chunk after the final piece.
  template <std::size_t N>
  std::size_t frame_piece(std::array<net::const_buffer, N>& out, std::size_t n, const char* data,
                          std::size_t size, bool more, bool chunked);

  Worker& w_;
  net_util::DeadlineStream<Protocol> client_;
  beast::flat_buffer cbuf_{core::read_buffer_limit};  // bounds a chunk-size line and the trailers too
  SessionHandle handle_;
  RelayBuffer relay_{w_.blocks};  // body buffer, held only while a body moves
  std::string hdr_;         // the header being sent, serialised flat (core/wire.hpp)
  std::string chunk_line_;  // the chunk-size line of the piece being sent
  std::optional<core::AuditClient> peer_;  // the client's process, looked up once (audit trail)
};

}  // namespace vp::proxy::detail
