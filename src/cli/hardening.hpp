#pragma once
// Keeping the service token out of places other processes can look: core dumps, ptrace, and the
// initial environment block that /proc/<pid>/environ shows. Used by `serve` and `run`.

namespace vp::cli {

/// Makes this process non-dumpable (no core dumps; /proc/<pid>/environ, mem and ptrace closed to
/// other processes of the same user) and sets the core size limit to 0.
void harden_process();

/// Removes every credential variable (config::credential_env_names) from the environment and
/// overwrites its "NAME=value" bytes. unsetenv alone only drops the pointer from `environ`: the
/// bytes stay in the process's initial environment block, which root can still read through
/// /proc/<pid>/environ even when the process is non-dumpable.
void scrub_credential_env();

}  // namespace vp::cli
