#include "cli/help_export.hpp"

#include "cli/exit_codes.hpp"

#include <CLI/CLI.hpp>
#include <vault_proxy/version.hpp>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace vp::cli {
namespace {

constexpr std::string_view help_export_name = "help-export";

/// One option as the three renderers need it: every spelling, whether it takes a value, and its help.
struct FlagDoc {
  std::vector<std::string> names;  // "-p", "--port"
  std::string value_name;          // empty for a flag
  std::string description;
};

/// One command of the tree; the root has an empty path.
struct CommandDoc {
  std::vector<std::string> path;  // {"identity", "rotate"}
  std::string description;
  std::string footer;
  std::vector<FlagDoc> flags;
  std::vector<std::string> positionals;
  std::vector<CommandDoc> children;
};

// CLI11 hides an option or a subcommand by putting it in the empty group; the renderers hide the
// same ones so that the man page and the completions list exactly what --help lists.
bool visible(const CLI::Option* opt) { return !opt->get_group().empty(); }

CommandDoc collect(const CLI::App& app, std::vector<std::string> path) {
  CommandDoc doc;
  doc.path = path;
  doc.description = app.get_description();
  doc.footer = app.get_footer();
  for (const CLI::Option* opt : app.get_options()) {
    if (!visible(opt)) continue;
    if (opt->get_positional()) {
      doc.positionals.push_back(opt->get_name());
      continue;
    }
    FlagDoc flag;
    for (const auto& s : opt->get_snames()) flag.names.push_back("-" + s);
    for (const auto& l : opt->get_lnames()) flag.names.push_back("--" + l);
    if (flag.names.empty()) continue;
    // The same test as CLI::Formatter::make_option_opts, so the man page shows what --help shows.
    if (opt->get_type_size() != 0 && !opt->get_type_name().empty()) flag.value_name = opt->get_type_name();
    flag.description = opt->get_description();
    doc.flags.push_back(std::move(flag));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    auto child_path = path;
    child_path.push_back(sub->get_name());
    doc.children.push_back(collect(*sub, std::move(child_path)));
  }
  return doc;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string first_line(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

// --- man ---------------------------------------------------------------------------------------

// groff(7): a backslash starts an escape, '-' is a hyphen unless written "\-" (options must be
// minus signs to be searchable and copyable), and a line that starts with '.' or '\'' is a request.
std::string roff(std::string_view text, bool minus = false) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-' && minus) out += "\\-";
    else out += c;
  }
  return out;
}

void roff_paragraphs(std::string_view text, std::ostream& out) {
  std::istringstream lines{std::string(text)};
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (!first) out << ".br\n";
    first = false;
    if (line.front() == '.' || line.front() == '\'') out << "\\&";
    out << roff(line) << "\n";
  }
}

void man_flag(const FlagDoc& f, std::ostream& out) {
  out << ".TP\n";
  std::vector<std::string> names;
  for (const auto& n : f.names) names.push_back("\\fB" + roff(n, true) + "\\fR");
  out << join(names, ", ");
  if (!f.value_name.empty()) out << " \\fI" << roff(f.value_name, true) << "\\fR";
  out << "\n";
  roff_paragraphs(f.description.empty() ? "(no description)" : f.description, out);
}

void man_command(const CommandDoc& c, std::ostream& out) {
  std::string full = "vault-proxy " + join(c.path, " ");
  out << ".SS \"" << roff(full, true) << "\"\n";
  out << "\\fB" << roff(full, true) << "\\fR";
  if (!c.flags.empty()) out << " [\\fIOPTIONS\\fR]";
  if (!c.children.empty()) out << " \\fICOMMAND\\fR";
  for (const auto& p : c.positionals) out << " [\\fB\\-\\-\\fR] \\fI" << roff(p, true) << "\\fR...";
  out << "\n.PP\n";
  roff_paragraphs(c.description, out);
  for (const auto& f : c.flags) man_flag(f, out);
  if (!c.footer.empty()) {
    out << ".PP\n";
    roff_paragraphs(c.footer, out);
  }
  for (const auto& child : c.children) man_command(child, out);
}

// --- bash --------------------------------------------------------------------------------------

void bash_cases(const CommandDoc& c, std::ostream& out) {
  std::vector<std::string> opts, valued, subs;
  for (const auto& f : c.flags) {
    for (const auto& n : f.names) {
      opts.push_back(n);
      if (!f.value_name.empty()) valued.push_back(n);
    }
  }
  for (const auto& child : c.children) subs.push_back(child.path.back());
  out << "    \"" << (c.path.empty() ? "" : "/" + join(c.path, "/")) << "\")\n"
      << "      opts=\"" << join(opts, " ") << "\"\n"
      << "      valued=\"" << join(valued, " ") << "\"\n"
      << "      subs=\"" << join(subs, " ") << "\" ;;\n";
  for (const auto& child : c.children) bash_cases(child, out);
}

void bash_paths(const CommandDoc& c, std::vector<std::string>& paths) {
  if (!c.path.empty()) paths.push_back("/" + join(c.path, "/"));
  for (const auto& child : c.children) bash_paths(child, paths);
}

// --- zsh ---------------------------------------------------------------------------------------

// Inside a single-quoted _arguments spec: a quote ends the word, brackets end the description.
std::string zsh_desc(std::string_view text) {
  std::string out;
  for (char c : first_line(text)) {
    if (c == '\'') out += "'\\''";
    else if (c == '[' || c == ']' || c == '\\') (out += '\\') += c;
    else out += c;
  }
  return out;
}

std::string zsh_function(const CommandDoc& c) {
  std::string name = "_vault_proxy";
  for (auto part : c.path) {
    for (char& ch : part)
      if (ch == '-') ch = '_';
    name += "__" + part;
  }
  return name;
}

void zsh_command(const CommandDoc& c, std::ostream& out) {
  out << zsh_function(c) << "() {\n";
  if (!c.children.empty()) out << "  local curcontext=\"$curcontext\" state line\n";
  out << "  _arguments -C";
  for (const auto& f : c.flags) {
    for (const auto& n : f.names) {
      out << " \\\n    '" << n << "[" << zsh_desc(f.description) << "]";
      if (!f.value_name.empty()) out << ":" << f.value_name << ":_files";
      out << "'";
    }
  }
  if (!c.children.empty()) {
    out << " \\\n    '1: :->command' '*:: :->args'\n";
    out << "  case $state in\n    command)\n      local -a commands\n      commands=(\n";
    for (const auto& child : c.children) {
      std::string desc = zsh_desc(child.description);
      std::string escaped;
      for (char ch : desc) (ch == ':' ? escaped += "\\:" : escaped += ch);
      out << "        '" << child.path.back() << ":" << escaped << "'\n";
    }
    out << "      )\n      _describe -t commands 'vault-proxy command' commands ;;\n"
        << "    args)\n      case $words[1] in\n";
    for (const auto& child : c.children) out << "        " << child.path.back() << ") " << zsh_function(child) << " ;;\n";
    out << "      esac ;;\n  esac\n";
  } else if (!c.positionals.empty()) {
    out << " \\\n    '*::command:_normal'\n";
  } else {
    out << "\n";
  }
  out << "}\n\n";
  for (const auto& child : c.children) zsh_command(child, out);
}

}  // namespace

void render_man(const CLI::App& root, std::string_view version, std::ostream& out) {
  CommandDoc doc = collect(root, {});
  std::string summary = doc.description;
  if (summary.rfind("vault-proxy: ", 0) == 0) summary.erase(0, 13);
  out << ".\\\" Generated by `vault-proxy help-export --format man` from the same CLI11 tree as --help.\n"
      << ".TH VAULT\\-PROXY 1 \"\" \"vault\\-proxy " << roff(version, true) << "\" \"User Commands\"\n"
      << ".SH NAME\nvault\\-proxy \\- " << roff(summary) << "\n"
      << ".SH SYNOPSIS\n\\fBvault\\-proxy\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
      << ".SH DESCRIPTION\n";
  roff_paragraphs(summary + ".", out);
  out << ".PP\nEach command is described below with its options; "
         "\\fBvault\\-proxy\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR prints the same text.\n";
  out << ".SH OPTIONS\n";
  for (const auto& f : doc.flags) man_flag(f, out);
  out << ".SH COMMANDS\n";
  for (const auto& c : doc.children) man_command(c, out);
  out << ".SH EXIT STATUS\n";
  roff_paragraphs(doc.footer, out);
  out << ".SH FILES\n.TP\n\\fI/etc/vault\\-proxy/vault\\-proxy.toml\\fR\n"
      << "The configuration file read by the packaged vault\\-proxy.service (\\fB\\-\\-config\\fR).\n"
      << ".SH SEE ALSO\n\\fBsystemd.exec\\fR(5), \\fBsystemd\\-creds\\fR(1), \\fI/usr/share/doc/vault\\-proxy/\\fR\n";
}

void render_bash(const CLI::App& root, std::ostream& out) {
  CommandDoc doc = collect(root, {});
  std::vector<std::string> paths;
  bash_paths(doc, paths);
  out << "# bash completion for vault-proxy\n"
      << "# Generated by `vault-proxy help-export --format bash` from the same CLI11 tree as --help.\n"
      << "_vault_proxy() {\n"
      << "  local cur prev words cword\n"
      << "  if declare -F _init_completion >/dev/null; then\n"
      << "    _init_completion || return\n"
      << "  else\n"
      << "    words=(\"${COMP_WORDS[@]}\"); cword=$COMP_CWORD; cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "  fi\n"
      << "  local cmd=\"\" i w\n"
      << "  for ((i = 1; i < cword; i++)); do\n"
      << "    w=${words[i]}\n"
      << "    if [[ $w == -- ]]; then\n"
      << "      # After --, the words belong to the command that `run` starts.\n"
      << "      declare -F _command_offset >/dev/null && _command_offset $((i + 1))\n"
      << "      return 0\n"
      << "    fi\n"
      << "    case \"$cmd/$w\" in\n"
      << "      " << join(paths, "|") << ") cmd=\"$cmd/$w\" ;;\n"
      << "    esac\n"
      << "  done\n"
      << "  local opts=\"\" valued=\"\" subs=\"\"\n"
      << "  case \"$cmd\" in\n";
  bash_cases(doc, out);
  out << "  esac\n"
      << "  if [[ -n $valued && \" $valued \" == *\" $prev \"* ]]; then\n"
      << "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      << "    return 0\n"
      << "  fi\n"
      << "  if [[ $cur == -* || -z $subs ]]; then\n"
      << "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      << "  else\n"
      << "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
      << "  fi\n"
      << "}\n"
      << "complete -F _vault_proxy vault-proxy\n";
}

void render_zsh(const CLI::App& root, std::ostream& out) {
  CommandDoc doc = collect(root, {});
  out << "#compdef vault-proxy\n"
      << "# Generated by `vault-proxy help-export --format zsh` from the same CLI11 tree as --help.\n\n";
  zsh_command(doc, out);
  out << "_vault_proxy \"$@\"\n";
}

void add_help_export(CLI::App& app, int& exit_code) {
  auto format = std::make_shared<HelpFormat>(HelpFormat::man);
  auto* cmd = app.add_subcommand(std::string(help_export_name),
                                 "Print the man page or a shell completion script, generated from this command line");
  // Hidden: a build and packaging tool, not an operator's command.
  cmd->group("");
  cmd->add_option("--format", *format, "man, bash or zsh")
      ->required()
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, HelpFormat>{{"man", HelpFormat::man}, {"bash", HelpFormat::bash}, {"zsh", HelpFormat::zsh}}));
  cmd->callback([&app, format, &exit_code] {
    switch (*format) {
      case HelpFormat::man: render_man(app, vp::version, std::cout); break;
      case HelpFormat::bash: render_bash(app, std::cout); break;
      case HelpFormat::zsh: render_zsh(app, std::cout); break;
    }
    exit_code = std::cout.flush() ? exit_ok : exit_failure;
  });
}

}  // namespace vp::cli
