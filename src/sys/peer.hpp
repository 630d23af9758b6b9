#pragma once
// Which local process is at the other end of a client connection, for the audit trail (issue 18).
// A Unix socket says so itself (SO_PEERCRED). For loopback TCP the kernel knows the client's socket
// (its uid and inode: sock_diag, or /proc/net/tcp{,6}), and /proc knows which process holds that
// inode. Everything is read, never written; a process that exits mid-lookup only costs the answer.
// The parsers are pure and tested on their own; the readers are thin. The lookups block on /proc
// (a TCP lookup that has to scan costs milliseconds: bench/micro/peer_lookup_bench.cpp), so call
// them off the I/O threads; they are safe to call from several threads at once.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::sys {

/// The local process at the other end of a connection, as far as it could be found.
struct Peer {
  std::optional<pid_t> pid;
  std::optional<uid_t> uid;
  std::string command;           ///< command_words() of its command line; "" when unknown
  std::vector<pid_t> ancestors;  ///< parent, grandparent, …: at most 8, stopping before pid 1 (or 0)
  std::string problem;           ///< why pid (or uid) is missing, one clause; "" when found
};

/// Unix-domain socket: SO_PEERCRED (pid, uid), then command and ancestors from /proc.
Peer unix_peer(int fd);

/// Where tcp_peer() looks for the client's socket.
enum class SocketTable {
  sock_diag_or_proc_net,  ///< sock_diag, then /proc/net/tcp{,6} when it fails (no tcp_diag module)
  sock_diag,              ///< NETLINK_SOCK_DIAG only: one exact lookup, one netlink round trip
  proc_net,               ///< /proc/net/tcp and /proc/net/tcp6 only: a scan of every TCP socket
};

/// Loopback TCP: `fd` is the proxy's accepted socket. The client's socket is the one whose local
/// address is our peer address and whose remote is our local address; its uid and inode come
/// from `table`, and its process is the first one of that uid whose fd table holds the inode.
/// A process we may not inspect gives uid but no pid, with problem saying so.
Peer tcp_peer(int fd, SocketTable table = SocketTable::sock_diag_or_proc_net);

/// One end of a TCP connection. IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d), so that a
/// dual-stack socket and a plain IPv4 one compare equal when they name the same address.
struct TcpEndpoint {
  std::array<std::uint8_t, 16> address{};  ///< network byte order
  std::uint16_t port = 0;                  ///< host byte order
  bool operator==(const TcpEndpoint&) const = default;
};

/// `address` (dotted IPv4 or IPv6 text) and `port`; nullopt when the text is no address.
std::optional<TcpEndpoint> tcp_endpoint(std::string_view address, std::uint16_t port);

/// "127.0.0.1:2019", "[::1]:2019".
std::string to_string(const TcpEndpoint& endpoint);

/// One socket line of /proc/net/tcp or /proc/net/tcp6.
struct ProcNetTcpEntry {
  TcpEndpoint local;
  TcpEndpoint remote;
  unsigned state = 0;  ///< TCP_ESTABLISHED = 1, … (include/net/tcp_states.h)
  uid_t uid = 0;
  std::uint64_t inode = 0;  ///< 0 once no descriptor refers to it (closed, TIME_WAIT)
};

/// Pure: one line of /proc/net/tcp{,6} ("0: 0100007F:07E3 0100007F:9C40 01 … uid timeout inode").
/// The kernel prints each 32-bit address word as a number in host byte order (IPv6 as four of
/// them) and the port in host order. nullopt for the header line or anything malformed.
std::optional<ProcNetTcpEntry> parse_proc_net_tcp_line(std::string_view line);

/// Pure: the first words of a NUL-separated /proc/<pid>/cmdline, which is all that is safe to
/// log: later arguments may hold secrets (--token=…, user:password@host). argv[0] is kept; each
/// following word only while it does not start with '-' and holds no '=' and no ':'; at most 3
/// words and 160 bytes; bytes outside printable ASCII become '?'. Words are also split at spaces,
/// because setproctitle() joins a rewritten command line into argv[0] with spaces.
std::string command_words(std::string_view cmdline);

/// The fields of /proc/<pid>/stat that are used here.
struct ProcStat {
  std::string comm;  ///< the name between the parentheses, as the process set it
  pid_t ppid = 0;
};

/// Pure: /proc/<pid>/stat's comm (field 2) and ppid (field 4). comm may hold spaces and ')',
/// so the fields after it are found from the last ')'. nullopt when malformed.
std::optional<ProcStat> parse_proc_stat(std::string_view stat);

}  // namespace vp::sys
