// The shapes that several nouns' commands share.
#include "commands.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "form_input.h"

namespace signoff::cli {

CLI::App* Command(CLI::App& parent, const std::string& name, const std::string& description,
                  const std::string& example) {
  CLI::App* command = parent.add_subcommand(name, description);
  command->footer("Example:\n  " + example);
  return command;
}

CLI::App* Group(CLI::App& parent, const std::string& name, const std::string& description,
                const std::vector<std::string>& examples) {
  CLI::App* group = parent.add_subcommand(name, description);
  // Without its own footer a group would show the footer it inherited
  // from its parent, whose examples are about other nouns.
  group->footer(absl::StrCat(examples.size() == 1 ? "Example:" : "Examples:", "\n  ",
                             absl::StrJoin(examples, "\n  ")));
  group->require_subcommand(1);
  return group;
}

absl::Status Cli::ResolveTimeZoneOption() {
  if (globals.time_zone.empty()) return absl::OkStatus();
  auto zone = ParseTimeZone(globals.time_zone);
  if (!zone.ok()) return zone.status();
  forced_zone = *zone;
  return absl::OkStatus();
}

absl::Status Cli::ResolveTransportOptions() {
  auto resolved = ResolveTransport(globals.transport);
  if (!resolved.ok()) return resolved.status();
  transport = *std::move(resolved);
  return absl::OkStatus();
}

void AddPublishCommand(CLI::App& noun, Cli& cli, const std::string& description,
                       const std::string& example, const std::string& files_help,
                       PublishOne publish) {
  struct Args {
    std::vector<std::string> files;
    std::string request_id;
  };
  auto args = std::make_shared<Args>();
  auto* command = Command(noun, "publish", description, example);
  command->add_option("files", args->files, files_help)->required()->check(CLI::ExistingFile);
  command->add_option("--request-id", args->request_id, "idempotency key prefix");
  command->callback([&cli, args, publish] {
    cli.run = [&cli, args, publish]() -> absl::Status {
      for (const auto& file : args->files) {
        auto text = ReadFile(file);
        if (!text.ok()) return text.status();
        const std::string id =
            args->request_id.empty() ? NewRequestId() : absl::StrCat(args->request_id, "-", file);
        auto published = publish(cli, file, *text, id);
        if (!published.ok()) return Annotate(published, file);
      }
      return absl::OkStatus();
    };
  });
}

void AddGetCommand(CLI::App& noun, Cli& cli, const std::string& description,
                   const std::string& example, const std::string& reference_help, GetOne get) {
  auto reference = std::make_shared<std::string>();
  auto* command = Command(noun, "get", description, example);
  command->add_option("reference", *reference, reference_help)->required();
  command->callback([&cli, reference, get] {
    cli.run = [&cli, reference, get] { return get(cli, *reference); };
  });
}

absl::Status FillExtension(const std::string& by, const std::string& until,
                           v1::ExtendDeadlineRequest& request) {
  if (by.empty() == until.empty()) {
    return UsageError("give either --by DURATION (e.g. 1d4h) or --until TIME (RFC 3339)");
  }
  if (!by.empty()) {
    auto span = ParseSpan("--by", by);
    if (!span.ok()) return span.status();
    *request.mutable_by() = *span;
    return absl::OkStatus();
  }
  auto at = ParseTimestamp("--until", until);
  if (!at.ok()) return at.status();
  *request.mutable_new_due_at() = *at;
  return absl::OkStatus();
}

}  // namespace signoff::cli
