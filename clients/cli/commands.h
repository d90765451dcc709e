#pragma once

#include <functional>
#include <memory>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "connection.h"

namespace signoff::cli {

// What the parsed command line asks for: the global options, and the
// command to run once parsing is done.
struct Cli {
  GlobalOptions globals;
  std::function<absl::Status()> run;

  Connection& Connect() {
    if (!connection) connection = std::make_unique<Connection>(globals);
    return *connection;
  }
  bool json() const { return globals.output == "json"; }

 private:
  std::unique_ptr<Connection> connection;
};

// Adds a subcommand with a description and an example shown by --help.
CLI::App* Command(CLI::App& parent, const std::string& name, const std::string& description,
                  const std::string& example);

void AddHealthCommand(CLI::App& app, Cli& cli);
void AddDefinitionCommands(CLI::App& app, Cli& cli);
void AddInstanceCommands(CLI::App& app, Cli& cli);
void AddTaskCommands(CLI::App& app, Cli& cli);
void AddDirectoryCommands(CLI::App& app, Cli& cli);

}  // namespace signoff::cli
