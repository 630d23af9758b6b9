#include "sys/peer.hpp"

#include "sys/files.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace vp::sys {
namespace {

constexpr std::size_t max_command_bytes = 160;
constexpr std::size_t max_command_words = 3;
constexpr std::size_t max_ancestors = 8;
// Only the first words are kept, so the rest of a long command line need not be read.
constexpr std::size_t cmdline_read_bytes = 4096;
constexpr std::size_t stat_read_bytes = 1024;

/// Owns a descriptor; closes it at scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

/// Closes a directory stream at scope exit.
struct DirStream {
  DIR* dir;
  ~DirStream() {
    if (dir != nullptr) ::closedir(dir);
  }
};

/// A directory stream over `name` below `dirfd`; nullptr with errno set when it cannot be opened.
DIR* open_dir_at(int dirfd, const char* name) {
  Fd fd(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return nullptr;
  DIR* dir = ::fdopendir(fd.get());
  if (dir != nullptr) fd.release();
  return dir;
}

/// At most `max` bytes of `name` below `dirfd`; nullopt when it cannot be opened or read (a
/// process that exits between the look-up and the read gives ENOENT or ESRCH: not an error here).
std::optional<std::string> read_at(int dirfd, const char* name, std::size_t max) {
  Fd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd) return std::nullopt;
  std::string text(max, '\0');
  std::size_t used = 0;
  while (used < max) {
    ssize_t n = ::read(fd.get(), text.data() + used, max - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  text.resize(used);
  return text;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, int base) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

/// The next whitespace-separated field of `line`.
std::string_view next_field(std::string_view& line) {
  auto start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) return line = {};
  line.remove_prefix(start);
  auto end = std::min(line.find_first_of(" \t"), line.size());
  auto field = line.substr(0, end);
  line.remove_prefix(end);
  return field;
}

std::optional<TcpEndpoint> parse_hex_endpoint(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || text.size() - colon - 1 != 4) return std::nullopt;
  auto hex = text.substr(0, colon);
  auto port = parse_number<std::uint16_t>(text.substr(colon + 1), 16);
  if (!port || (hex.size() != 8 && hex.size() != 32)) return std::nullopt;
  TcpEndpoint e;
  e.port = *port;
  // Each word is the in-memory (network order) address word printed as a host-order number, so
  // copying the parsed number's bytes gives back the address bytes.
  std::size_t offset = hex.size() == 8 ? 12 : 0;
  if (hex.size() == 8) e.address[10] = e.address[11] = 0xff;
  for (std::size_t i = 0; i < hex.size(); i += 8) {
    auto word = parse_number<std::uint32_t>(hex.substr(i, 8), 16);
    if (!word) return std::nullopt;
    std::memcpy(e.address.data() + offset + i / 2, &*word, 4);
  }
  return e;
}

bool is_v4_mapped(const TcpEndpoint& e) {
  static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(e.address.data(), prefix, sizeof prefix) == 0;
}

std::optional<TcpEndpoint> endpoint_of(const sockaddr_storage& ss) {
  TcpEndpoint e;
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    e.address[10] = e.address[11] = 0xff;
    std::memcpy(e.address.data() + 12, &in.sin_addr, 4);
    e.port = ntohs(in.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    std::memcpy(e.address.data(), &in6.sin6_addr, 16);
    e.port = ntohs(in6.sin6_port);
  } else {
    return std::nullopt;
  }
  return e;
}

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

}  // namespace

std::optional<TcpEndpoint> tcp_endpoint(std::string_view address, std::uint16_t port) {
  std::string text(address);
  TcpEndpoint e;
  e.port = port;
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    e.address[10] = e.address[11] = 0xff;
    std::memcpy(e.address.data() + 12, &v4, 4);
    return e;
  }
  if (::inet_pton(AF_INET6, text.c_str(), e.address.data()) == 1) return e;
  return std::nullopt;
}

std::string to_string(const TcpEndpoint& e) {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4_mapped(e)) {
    ::inet_ntop(AF_INET, e.address.data() + 12, text, sizeof text);
    return fmt::format("{}:{}", text, e.port);
  }
  ::inet_ntop(AF_INET6, e.address.data(), text, sizeof text);
  return fmt::format("[{}]:{}", text, e.port);
}

std::optional<ProcNetTcpEntry> parse_proc_net_tcp_line(std::string_view line) {
  // sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode (proc_net_tcp(5)).
  std::string_view fields[10];
  for (auto& f : fields) f = next_field(line);
  if (fields[9].empty() || !fields[0].ends_with(':')) return std::nullopt;
  auto local = parse_hex_endpoint(fields[1]);
  auto remote = parse_hex_endpoint(fields[2]);
  auto state = parse_number<unsigned>(fields[3], 16);
  auto uid = parse_number<uid_t>(fields[7], 10);
  auto inode = parse_number<std::uint64_t>(fields[9], 10);
  if (!local || !remote || !state || !uid || !inode) return std::nullopt;
  return ProcNetTcpEntry{*local, *remote, *state, *uid, *inode};
}

std::string command_words(std::string_view cmdline) {
  std::string out;
  std::size_t words = 0;
  bool first = true;
  while (!cmdline.empty() && words < max_command_words) {
    auto end = std::min(cmdline.find_first_of(std::string_view("\0 ", 2)), cmdline.size());
    auto word = cmdline.substr(0, end);
    cmdline.remove_prefix(std::min(end + 1, cmdline.size()));
    // argv[0] names the program; after it, an option or anything shaped like key=value or
    // scheme://user:password@host may carry a secret, and so may every word after that one.
    if (!first && (word.starts_with('-') || word.find_first_of("=:") != std::string_view::npos)) break;
    first = false;
    if (word.empty()) continue;
    std::size_t room = max_command_bytes - out.size() - (words > 0 ? 1 : 0);
    if (words > 0 && word.size() > room) break;
    if (words > 0) out += ' ';
    for (char c : word.substr(0, room)) out += printable(c) ? c : '?';
    ++words;
  }
  return out;
}

std::optional<ProcStat> parse_proc_stat(std::string_view stat) {
  // "pid (comm) S ppid …": comm is whatever the process named itself, ')' and spaces included,
  // so only the last ')' ends it.
  auto open = stat.find('(');
  auto close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  ProcStat out;
  out.comm = std::string(stat.substr(open + 1, close - open - 1));
  auto rest = stat.substr(close + 1);
  auto state = next_field(rest);
  auto ppid = parse_number<pid_t>(next_field(rest), 10);
  if (state.size() != 1 || !ppid || *ppid < 0) return std::nullopt;
  out.ppid = *ppid;
  return out;
}

namespace {

/// The client socket's owner, as the kernel's socket table has it.
struct SocketOwner {
  uid_t uid = 0;
  std::uint64_t inode = 0;
};

/// A socket-table lookup: the owner, or why there is none.
struct OwnerLookup {
  std::optional<SocketOwner> owner;
  std::string problem;
};

struct DiagRequest {
  nlmsghdr header;
  inet_diag_req_v2 body;
};

void put_address(std::uint32_t* out, const TcpEndpoint& e, int family) {
  if (family == AF_INET)
    std::memcpy(out, e.address.data() + 12, 4);
  else
    std::memcpy(out, e.address.data(), 16);
}

TcpEndpoint diag_endpoint(const std::uint32_t* address, std::uint16_t port_be, int family) {
  TcpEndpoint e;
  if (family == AF_INET) {
    e.address[10] = e.address[11] = 0xff;
    std::memcpy(e.address.data() + 12, address, 4);
  } else {
    std::memcpy(e.address.data(), address, 16);
  }
  e.port = ntohs(port_be);
  return e;
}

/// The one reply to an exact sock_diag lookup: the owner, or the kernel's error.
OwnerLookup parse_diag_reply(const char* buf, std::size_t len, const TcpEndpoint& local, const TcpEndpoint& remote) {
  for (auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    if (h->nlmsg_type == NLMSG_ERROR) {
      const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      return {std::nullopt, fmt::format("sock_diag: {}", errno_text(-err->error))};
    }
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
    const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
    // The kernel falls back to a listening socket when no connection matches; only the exact
    // 4-tuple is the client.
    if (diag_endpoint(msg->id.idiag_src, msg->id.idiag_sport, msg->idiag_family) != local ||
        diag_endpoint(msg->id.idiag_dst, msg->id.idiag_dport, msg->idiag_family) != remote)
      continue;
    return {SocketOwner{msg->idiag_uid, msg->idiag_inode}, {}};
  }
  return {std::nullopt, "sock_diag: no matching socket in the reply"};
}

/// One NETLINK_SOCK_DIAG round trip for the TCP socket bound to `local` and connected to `remote`.
OwnerLookup sock_diag_owner(const TcpEndpoint& local, const TcpEndpoint& remote) {
  Fd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl) return {std::nullopt, fmt::format("sock_diag: {}", errno_text(errno))};
  // A dual-stack socket talking IPv4 sits in the IPv4 table, whichever family it was made with.
  const int family = is_v4_mapped(local) && is_v4_mapped(remote) ? AF_INET : AF_INET6;
  DiagRequest req{};
  req.header.nlmsg_len = sizeof req;
  req.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.header.nlmsg_flags = NLM_F_REQUEST;
  req.header.nlmsg_seq = 1;
  req.body.sdiag_family = static_cast<std::uint8_t>(family);
  req.body.sdiag_protocol = IPPROTO_TCP;
  req.body.idiag_states = ~0u;
  req.body.id.idiag_sport = htons(local.port);
  req.body.id.idiag_dport = htons(remote.port);
  put_address(req.body.id.idiag_src, local, family);
  put_address(req.body.id.idiag_dst, remote, family);
  req.body.id.idiag_cookie[0] = req.body.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl.get(), &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return {std::nullopt, fmt::format("sock_diag: {}", errno_text(errno))};
  // The kernel handles a netlink request inside sendto(), so the reply is queued already; never
  // waiting means a kernel that does not answer costs the fallback, not a stuck lookup.
  alignas(nlmsghdr) char buf[8192];
  ssize_t n = ::recv(nl.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return {std::nullopt, fmt::format("sock_diag: {}", errno_text(errno))};
  return parse_diag_reply(buf, static_cast<std::size_t>(n), local, remote);
}

/// Scans one /proc/net/tcp{,6} file in fixed chunks (it can hold every socket of the host).
std::optional<SocketOwner> scan_proc_net(int procfd, const char* name, const TcpEndpoint& local,
                                         const TcpEndpoint& remote) {
  Fd fd(::openat(procfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return std::nullopt;
  std::string buf(64 * 1024, '\0');
  std::size_t held = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data() + held, buf.size() - held);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    held += static_cast<std::size_t>(n);
    std::string_view text(buf.data(), held);
    std::size_t end;
    while ((end = text.find('\n')) != std::string_view::npos) {
      auto entry = parse_proc_net_tcp_line(text.substr(0, end));
      if (entry && entry->local == local && entry->remote == remote) return SocketOwner{entry->uid, entry->inode};
      text.remove_prefix(end + 1);
    }
    // A line longer than the buffer is not a socket line: drop it rather than grow.
    held = text.size() == buf.size() ? 0 : text.size();
    std::memmove(buf.data(), text.data(), held);
  }
}

OwnerLookup proc_net_owner(int procfd, const TcpEndpoint& local, const TcpEndpoint& remote) {
  // An IPv4 client may have an IPv4 socket (tcp) or a dual-stack one (tcp6, as ::ffff:a.b.c.d).
  if (is_v4_mapped(local) && is_v4_mapped(remote))
    if (auto owner = scan_proc_net(procfd, "net/tcp", local, remote)) return {owner, {}};
  if (auto owner = scan_proc_net(procfd, "net/tcp6", local, remote)) return {owner, {}};
  return {std::nullopt, fmt::format("no local socket is connected from {} to {} (the client is on another host, "
                                    "in another network namespace, or gone)",
                                    to_string(local), to_string(remote))};
}

/// Whether the fd table of process `pid` holds `link` ("socket:[inode]"); `fd_name` is then the
/// descriptor that does.
enum class Holds { yes, no, denied };
Holds holds_link(int procfd, const char* pid, std::string_view link, std::string& fd_name) {
  DirStream fds{open_dir_at(procfd, fmt::format("{}/fd", pid).c_str())};
  if (fds.dir == nullptr) return errno == EACCES || errno == EPERM ? Holds::denied : Holds::no;
  char target[64];
  while (const dirent* e = ::readdir(fds.dir)) {
    if (e->d_name[0] == '.') continue;
    ssize_t n = ::readlinkat(::dirfd(fds.dir), e->d_name, target, sizeof target);
    if (n == static_cast<ssize_t>(link.size()) && std::string_view(target, link.size()) == link) {
      fd_name = e->d_name;
      return Holds::yes;
    }
    // A listing we may read can still hide every target (an LSM, or a process that turned
    // non-dumpable since): one refusal stands for all of its descriptors.
    if (n < 0 && (errno == EACCES || errno == EPERM)) return Holds::denied;
  }
  return Holds::no;
}

/// The first process of `uid` that holds the socket, and its /proc directory (reads through it
/// fail once the process is gone, rather than reach a new process that reused the pid).
struct Holder {
  pid_t pid = 0;
  Fd dir;
  bool denied = false;  ///< some process of `uid` could not be inspected
};

/// Whether process `pid` (a /proc entry name) is of `uid` and holds `link`; fills `h` when it is.
bool try_holder(int procfd, const char* pid, uid_t uid, std::string_view link, Holder& h) {
  struct stat st {};
  // The owner check is a stat of the directory: much cheaper than opening the fd table of
  // every process, and /proc/<pid> belongs to the process's effective uid (proc(5)).
  if (::fstatat(procfd, pid, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_uid != uid) return false;
  std::string fd_name;
  auto found = holds_link(procfd, pid, link, fd_name);
  h.denied = h.denied || found == Holds::denied;
  if (found != Holds::yes) return false;
  // /proc/<pid> is opened only for the one match; seeing the link again through it proves the
  // directory is the holder's and not a successor's that reused the pid in between.
  Fd dir(::openat(procfd, pid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  char target[64];
  ssize_t n = dir ? ::readlinkat(dir.get(), ("fd/" + fd_name).c_str(), target, sizeof target) : -1;
  if (n != static_cast<ssize_t>(link.size()) || std::string_view(target, link.size()) != link) return false;
  h.pid = *parse_number<pid_t>(pid, 10);
  h.dir = std::move(dir);
  return true;
}

Holder find_holder(int procfd, uid_t uid, std::uint64_t inode) {
  // A client usually opens many connections; the previous holder is tried before the scan, so
  // a repeat costs one fd table instead of every process of the uid. It is only a hint: the
  // answer is still whichever process holds the inode.
  static std::atomic<pid_t> last_holder{0};
  Holder h;
  const std::string link = fmt::format("socket:[{}]", inode);
  const std::string hint = fmt::format("{}", last_holder.load(std::memory_order_relaxed));
  if (hint != "0" && try_holder(procfd, hint.c_str(), uid, link, h)) return h;
  DirStream procs{open_dir_at(procfd, ".")};
  if (procs.dir == nullptr) return h;
  while (const dirent* e = ::readdir(procs.dir)) {
    if (!parse_number<pid_t>(e->d_name, 10) || e->d_name == hint) continue;
    if (try_holder(procfd, e->d_name, uid, link, h)) {
      last_holder.store(h.pid, std::memory_order_relaxed);
      return h;
    }
  }
  return h;
}

/// command and ancestors of the process whose /proc directory is `piddir`.
void describe(int procfd, int piddir, Peer& peer) {
  auto stat = read_at(piddir, "stat", stat_read_bytes);
  auto parsed = stat ? parse_proc_stat(*stat) : std::nullopt;
  if (auto cmdline = read_at(piddir, "cmdline", cmdline_read_bytes)) peer.command = command_words(*cmdline);
  // Kernel threads and processes that cleared their command line have none; ps shows [comm].
  if (peer.command.empty() && parsed && !parsed->comm.empty())
    peer.command = "[" + command_words(parsed->comm) + "]";
  pid_t next = parsed ? parsed->ppid : 0;
  while (next > 1 && peer.ancestors.size() < max_ancestors) {
    peer.ancestors.push_back(next);
    auto up = read_at(procfd, fmt::format("{}/stat", next).c_str(), stat_read_bytes);
    auto up_parsed = up ? parse_proc_stat(*up) : std::nullopt;
    next = up_parsed ? up_parsed->ppid : 0;
  }
}

Fd open_proc(std::string& problem) {
  Fd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc) problem = fmt::format("/proc cannot be opened: {}", errno_text(errno));
  return proc;
}

/// Our local and peer address on `fd`, or why it is not a connected TCP socket.
struct TcpEnds {
  TcpEndpoint local;
  TcpEndpoint peer;
  std::string problem;
};

TcpEnds tcp_ends(int fd) {
  TcpEnds ends;
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof local, peer_len = sizeof peer;
  int protocol = 0;
  socklen_t protocol_len = sizeof protocol;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &protocol_len) != 0) {
    ends.problem = fmt::format("descriptor {} is not a connected socket: {}", fd, errno_text(errno));
    return ends;
  }
  auto l = endpoint_of(local);
  auto p = endpoint_of(peer);
  if (!l || !p || protocol != IPPROTO_TCP) {
    ends.problem = fmt::format("descriptor {} is not a TCP socket", fd);
    return ends;
  }
  ends.local = *l;
  ends.peer = *p;
  return ends;
}

}  // namespace

Peer unix_peer(int fd) {
  Peer peer;
  int domain = 0;
  socklen_t domain_len = sizeof domain;
  sockaddr_storage addr{};
  socklen_t addr_len = sizeof addr;
  ucred cred{};
  socklen_t cred_len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_len) != 0) {
    peer.problem = fmt::format("descriptor {} is not a socket: {}", fd, errno_text(errno));
    return peer;
  }
  if (domain != AF_UNIX) {
    peer.problem = fmt::format("descriptor {} is not a Unix-domain socket", fd);
    return peer;
  }
  // An unconnected socket still answers SO_PEERCRED, with pid 0 and the overflow uid.
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0) {
    peer.problem = fmt::format("descriptor {} has no peer: {}", fd, errno_text(errno));
    return peer;
  }
  peer.uid = cred.uid;
  if (cred.pid <= 0) {
    peer.problem = "the peer process is not visible from this pid namespace";
    return peer;
  }
  peer.pid = cred.pid;
  std::string ignored;
  if (Fd proc = open_proc(ignored)) {
    Fd dir(::openat(proc.get(), fmt::format("{}", cred.pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (dir) describe(proc.get(), dir.get(), peer);
  }
  return peer;
}

Peer tcp_peer(int fd, SocketTable table) {
  Peer peer;
  auto ends = tcp_ends(fd);
  if (!ends.problem.empty()) {
    peer.problem = std::move(ends.problem);
    return peer;
  }
  Fd proc = open_proc(peer.problem);
  if (!proc) return peer;
  // The client's socket is bound to our peer address and connected to our local one.
  OwnerLookup lookup;
  if (table != SocketTable::proc_net) lookup = sock_diag_owner(ends.peer, ends.local);
  if (!lookup.owner && table != SocketTable::sock_diag) lookup = proc_net_owner(proc.get(), ends.peer, ends.local);
  if (!lookup.owner) {
    peer.problem = std::move(lookup.problem);
    return peer;
  }
  // Inode 0: no descriptor refers to the socket any more. In TIME_WAIT the kernel reports uid 0
  // as well, so the uid is left out rather than blame root.
  if (lookup.owner->inode == 0) {
    peer.problem = "the client has closed its socket";
    return peer;
  }
  peer.uid = lookup.owner->uid;
  Holder holder = find_holder(proc.get(), lookup.owner->uid, lookup.owner->inode);
  if (holder.pid == 0) {
    peer.problem = holder.denied ? fmt::format("the client runs as uid {}, whose processes uid {} may not inspect",
                                               lookup.owner->uid, ::geteuid())
                                 : fmt::format("no process of uid {} holds the client's socket (inode {}) any more",
                                               lookup.owner->uid, lookup.owner->inode);
    return peer;
  }
  peer.pid = holder.pid;
  describe(proc.get(), holder.dir.get(), peer);
  return peer;
}

}  // namespace vp::sys
