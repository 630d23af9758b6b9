// LD_PRELOAD shim for one test: when the process chmods VP_SWAP_PATH, it first replaces that path
// with a symlink to VP_SWAP_TARGET, the way another user could between bind(2) and chmod(2). It
// opens that window deterministically; a proxy that never chmods the path is not affected.

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern "C" int chmod(const char* path, mode_t mode) {
  const char* swap = std::getenv("VP_SWAP_PATH");
  const char* target = std::getenv("VP_SWAP_TARGET");
  if (swap != nullptr && target != nullptr && std::strcmp(path, swap) == 0) {
    ::unlink(path);
    ::symlink(target, path);
  }
  using chmod_fn = int (*)(const char*, mode_t);
  static auto real = reinterpret_cast<chmod_fn>(::dlsym(RTLD_NEXT, "chmod"));
  return real(path, mode);
}
