#pragma once
// Builds the command line: one subcommand per file in src/cli/.

namespace vp::cli {
/// Parses argv, runs the chosen subcommand, and returns its exit code.
int main(int argc, char** argv);
}  // namespace vp::cli
