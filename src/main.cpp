#include "cli/app.hpp"
#include "cli/exit_codes.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  try {
    return vp::cli::main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vault-proxy: " << e.what() << "\n";
    return vp::cli::exit_failure;
  }
}
