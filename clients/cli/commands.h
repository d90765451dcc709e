#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "connection.h"
#include "output.h"
#include "time_zones.h"

namespace signoff::cli {

// What the parsed command line asks for: the global options, and the
// command to run once parsing is done.
struct Cli {
  GlobalOptions globals;
  std::function<absl::Status()> run;

  // Needs ResolveTransportOptions first.
  Connection& Connect() {
    if (!connection) connection = std::make_unique<Connection>(globals, transport);
    return *connection;
  }
  bool json() const { return globals.output == "json"; }

  // Reads --tz (or SIGNOFF_TZ); an unknown zone is a usage error. Called
  // once the command line is parsed, before the command runs.
  absl::Status ResolveTimeZoneOption();
  // Reads the files of the token and TLS options, whose mistakes are usage
  // errors (see ResolveTransport); called when ResolveTimeZoneOption is.
  absl::Status ResolveTransportOptions();

  // Where the times of instances, tasks and calendars are shown; lookups
  // are cached for the rest of the run.
  ZoneLookup& zones() {
    if (!zone_lookup) zone_lookup = std::make_unique<ZoneLookup>(Connect(), forced_zone);
    return *zone_lookup;
  }
  // The same, in the shape the list printers take.
  ZoneOf ZoneOfDefinition() {
    return [this](const std::string& key, int32_t version) {
      return zones().ForDefinition(key, version);
    };
  }

 private:
  Transport transport;
  std::unique_ptr<Connection> connection;
  std::optional<absl::TimeZone> forced_zone;
  std::unique_ptr<ZoneLookup> zone_lookup;
};

// Adds a subcommand with a description and an example shown by --help.
CLI::App* Command(CLI::App& parent, const std::string& name, const std::string& description,
                  const std::string& example);
// Adds a noun that groups commands (`task`, `instance`, ...), with examples
// of its commands shown by `signoffctl NOUN --help`.
CLI::App* Group(CLI::App& parent, const std::string& name, const std::string& description,
                const std::vector<std::string>& examples);

// `NOUN publish FILE... [--request-id PREFIX]`. `publish` gets each file's
// name, text and request id (PREFIX-FILE, or a fresh one) and prints the
// outcome; the first failure stops, with the file's name before its message.
using PublishOne = std::function<absl::Status(Cli& cli, const std::string& file,
                                              const std::string& text,
                                              const std::string& request_id)>;
void AddPublishCommand(CLI::App& noun, Cli& cli, const std::string& description,
                       const std::string& example, const std::string& files_help,
                       PublishOne publish);

// `NOUN get REFERENCE`, the reference being NAME or NAME@VERSION (see
// ParseReference).
using GetOne = std::function<absl::Status(Cli& cli, const std::string& reference)>;
void AddGetCommand(CLI::App& noun, Cli& cli, const std::string& description,
                   const std::string& example, const std::string& reference_help, GetOne get);

// A call's answer on stdout: JSON, or for people through `print`. A failed
// call's status is passed on.
template <typename Response, typename Print>
absl::Status Show(Cli& cli, const absl::StatusOr<Response>& response, Print print) {
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
  } else {
    print(*response);
  }
  return absl::OkStatus();
}

// What a trail that does not verify exits with (1, a local verdict rather
// than a failed call).
absl::Status BrokenChain(const std::string& instance_id);

// Sets an extension from `--by DURATION` or `--until TIME`, exactly one of
// which must be given.
absl::Status FillExtension(const std::string& by, const std::string& until,
                           v1::ExtendDeadlineRequest& request);

void AddHealthCommand(CLI::App& app, Cli& cli);
void AddAuditCommands(CLI::App& app, Cli& cli);
void AddDefinitionCommands(CLI::App& app, Cli& cli);
void AddInstanceCommands(CLI::App& app, Cli& cli);
void AddTaskCommands(CLI::App& app, Cli& cli);
void AddDirectoryCommands(CLI::App& app, Cli& cli);
void AddCalendarCommands(CLI::App& app, Cli& cli);
void AddJobCommands(CLI::App& app, Cli& cli);
void AddWatchCommands(CLI::App& app, Cli& cli);
void AddReportCommands(CLI::App& app, Cli& cli);
void AddWebhookCommands(CLI::App& app, Cli& cli);
void AddDelegationCommands(CLI::App& app, Cli& cli);
void AddLedgerCommands(CLI::App& app, Cli& cli);
void AddAttachmentCommands(CLI::App& app, Cli& cli);

// Uploads a file for a form of `definition_key` and returns its reference;
// the media type is guessed from the extension when empty.
absl::StatusOr<v1::AttachmentResponse> UploadFile(Cli& cli, const std::string& path,
                                                  const std::string& definition_key,
                                                  const std::string& media_type,
                                                  const std::string& request_id);

}  // namespace signoff::cli
