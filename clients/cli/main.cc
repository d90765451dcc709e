// signoffctl: the admin CLI for signoffd.
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "form_input.h"
#include "workflow/errors.h"

namespace signoff::cli {

namespace {

// 0 ok, 1 local failure, 2 usage, 64 + code for a failed call (as grpcurl).
int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  const bool from_server = status.GetPayload(kRpcFailure).has_value();
  if (status.GetPayload(kUsageError).has_value()) {
    std::cerr << "usage error: " << status.message() << "\n";
    return 2;
  }
  std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  for (const auto& violation : workflow::ViolationsOf(status)) {
    std::cerr << "  " << violation.field << ": " << violation.description << "\n";
  }
  return from_server ? 64 + static_cast<int>(status.code()) : 1;
}

}  // namespace
}  // namespace signoff::cli

int main(int argc, char** argv) {
  using namespace signoff::cli;
  Cli cli;
  CLI::App app{"signoffctl: drive the signoff workflow service from a terminal"};
  app.footer(
      "Examples:\n"
      "  signoffctl --as bob.zhang task list\n"
      "  signoffctl --as bob.zhang instance start dealer-application --form dealer_id=D-1 ...\n"
      "  SIGNOFF_USER=bob.zhang signoffctl --tz UTC instance history i0001\n"
      "  signoffctl --address signoff.example.com:443 --tls --token-file token task list\n"
      "Times show their zone: the zone of the calendar the definition names, the local zone\n"
      "when it names none, or --tz.\n"
      "Exit codes: 0 ok, 1 local error, 2 usage error, 64+gRPC code when a call fails.");
  app.require_subcommand(1);
  app.fallthrough();
  TransportOptions& transport = cli.globals.transport;
  app.add_option("--address", transport.address, "signoffd address")
      ->envname("SIGNOFF_ADDRESS")
      ->capture_default_str();
  app.add_option("--as", cli.globals.user, "act as this directory user (dev identity header)")
      ->envname("SIGNOFF_USER");
  app.add_option("--token", transport.token, "bearer token to send (signoffd --auth=jwt)")
      ->envname("SIGNOFF_TOKEN");
  app.add_option("--token-file", transport.token_file, "file holding the bearer token")
      ->envname("SIGNOFF_TOKEN_FILE");
  app.add_flag("--insecure-token", transport.insecure_token,
               "send the token without TLS to another machine too, where something else "
               "encrypts the way")
      ->envname("SIGNOFF_INSECURE_TOKEN");
  app.add_flag("--tls", transport.tls, "connect over TLS, trusting the system's CAs")
      ->envname("SIGNOFF_TLS");
  app.add_option("--ca", transport.ca_file, "PEM CA certificates to trust instead (implies --tls)")
      ->envname("SIGNOFF_CA");
  app.add_option("--cert", transport.cert_file,
                 "PEM client certificate, for a server that requires one (mTLS; with --key; "
                 "implies --tls)")
      ->envname("SIGNOFF_CERT");
  app.add_option("--key", transport.key_file, "PEM private key of --cert")->envname("SIGNOFF_KEY");
  app.add_option("--tls-server-name", transport.server_name,
                 "name the server's certificate must carry, when not the address's host "
                 "(implies --tls)")
      ->envname("SIGNOFF_TLS_SERVER_NAME");
  app.add_option("-o,--output", cli.globals.output,
                 "table (for people) or json; csv too for reports (other commands print a "
                 "table for it)")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  app.add_option("--tz", cli.globals.time_zone,
                 "show times in this zone, e.g. UTC, Asia/Shanghai, +08:00 or local (default: the "
                 "zone of the calendar the definition names, else the local zone)")
      ->envname("SIGNOFF_TZ");
  app.add_option("--timeout", cli.globals.timeout_seconds, "seconds to wait for each call")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  AddHealthCommand(app, cli);
  AddDefinitionCommands(app, cli);
  AddInstanceCommands(app, cli);
  AddTaskCommands(app, cli);
  AddDirectoryCommands(app, cli);
  AddCalendarCommands(app, cli);
  AddAuditCommands(app, cli);
  AddReportCommands(app, cli);
  AddJobCommands(app, cli);
  AddWatchCommands(app, cli);
  AddWebhookCommands(app, cli);
  AddDelegationCommands(app, cli);
  AddLedgerCommands(app, cli);
  AddAttachmentCommands(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  if (!cli.run) {
    std::cerr << "usage error: name a command; see --help\n";
    return 2;
  }
  absl::Status status = cli.ResolveTimeZoneOption();
  if (status.ok()) status = cli.ResolveTransportOptions();
  if (status.ok()) status = cli.run();
  return Report(status);
}
