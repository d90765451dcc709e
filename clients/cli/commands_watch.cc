// `watch`: follow the event stream, as a table or as JSON lines, resuming
// from a cursor saved in a file; and `notification list|read`.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "form_input.h"
#include "google/protobuf/util/json_util.h"
#include "output.h"

namespace signoff::cli {

namespace {

struct WatchArgs {
  int64_t after = -1;
  std::string cursor_file;
  std::vector<std::string> definitions;
  std::vector<std::string> kinds;
  std::string instance;
  int heartbeat_seconds = 0;
  int64_t count = 0;
  bool heartbeats = false;
  bool catch_up = false;
};

// The cursor a --cursor-file holds; 0 when it does not exist yet.
absl::StatusOr<int64_t> ReadCursor(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return 0;
    return UsageError(absl::StrCat("--cursor-file: cannot read ", path));
  }
  std::string text;
  std::getline(in, text);
  int64_t cursor = 0;
  if (!absl::SimpleAtoi(text, &cursor) || cursor < 0) {
    return UsageError(absl::StrCat("--cursor-file: ", path, " holds no cursor"));
  }
  return cursor;
}

// Written whole or not at all: a crash mid-write leaves the old cursor.
absl::Status SaveCursor(const std::string& path, int64_t cursor) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << cursor << "\n";
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return absl::InternalError(absl::StrCat("cannot replace ", path, ": ", error.message()));
  return absl::OkStatus();
}

void PrintJsonLine(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    std::cerr << "cannot print JSON\n";
    return;
  }
  std::cout << json << "\n";
}

void PrintItemRows(const v1::WatchEventsResponse& item) {
  if (item.has_event()) {
    const v1::Event& event = item.event().event();
    std::cout << absl::StrJoin(
                     {absl::StrCat(item.cursor()), ShowTime(event.time(), absl::UTCTimeZone()),
                      event.type(), event.instance_id(), item.event().definition_key(),
                      event.step_id().empty() ? std::string("-") : event.step_id(),
                      event.actor().empty() ? std::string("-") : event.actor()},
                     "  ")
              << "\n";
  }
  for (const auto& notification : item.notifications()) {
    std::cout << absl::StrJoin({absl::StrCat(item.cursor()), std::string("notify"),
                                notification.recipient(),
                                Name(v1::NotificationKind_Name(notification.kind())),
                                notification.instance_id(), notification.detail()},
                               "  ")
              << "\n";
  }
}

absl::StatusOr<v1::WatchEventsRequest> WatchRequestOf(const WatchArgs& args) {
  v1::WatchEventsRequest request;
  int64_t after = args.after;
  if (after < 0 && !args.cursor_file.empty()) {
    auto saved = ReadCursor(args.cursor_file);
    if (!saved.ok()) return saved.status();
    after = *saved;
  }
  request.set_after_global_seq(std::max<int64_t>(after, 0));
  for (const auto& key : args.definitions) request.add_definition_keys(key);
  for (const auto& kind : args.kinds) request.add_kinds(kind);
  request.set_instance_id(args.instance);
  if (args.heartbeat_seconds > 0) {
    request.mutable_heartbeat_interval()->set_seconds(args.heartbeat_seconds);
  } else if (args.catch_up) {
    request.mutable_heartbeat_interval()->set_seconds(1);
  }
  return request;
}

absl::Status Watch(Cli& cli, const WatchArgs& args) {
  auto request = WatchRequestOf(args);
  if (!request.ok()) return request.status();
  grpc::ClientContext context;
  cli.Connect().PrepareStream(context);
  auto reader = cli.Connect().events().WatchEvents(&context, *request);
  v1::WatchEventsResponse item;
  int64_t events = 0;
  bool stopped = false;
  while (!stopped && reader->Read(&item)) {
    const bool heartbeat = item.has_heartbeat();
    if (!heartbeat || args.heartbeats) {
      if (cli.json()) {
        PrintJsonLine(item);
      } else if (heartbeat) {
        std::cout << item.cursor() << "  heartbeat  head " << item.heartbeat().head_global_seq()
                  << "\n";
      } else {
        PrintItemRows(item);
      }
      std::cout.flush();
    }
    if (!heartbeat) ++events;
    // A heartbeat comes only once everything committed so far was sent.
    const bool caught_up = heartbeat && args.catch_up;
    // After the item is out: a watcher killed before this line sees the
    // item again when it resumes, never loses it.
    if (!args.cursor_file.empty()) {
      if (absl::Status saved = SaveCursor(args.cursor_file, item.cursor()); !saved.ok()) {
        context.TryCancel();
        return saved;
      }
    }
    stopped = caught_up || (args.count > 0 && events >= args.count);
  }
  if (stopped) {
    context.TryCancel();
    while (reader->Read(&item)) {
    }
    reader->Finish();
    return absl::OkStatus();
  }
  const grpc::Status status = reader->Finish();
  return status.ok() ? absl::OkStatus() : Connection::FromGrpc(status);
}

struct NotificationArgs {
  bool unread = false;
  std::string recipient;
  int page_size = 50;
  std::vector<int64_t> ids;
  bool all = false;
};

absl::Status ListNotifications(Cli& cli, const NotificationArgs& args) {
  v1::ListNotificationsRequest request;
  request.set_unread_only(args.unread);
  request.set_recipient(args.recipient);
  request.set_page_size(args.page_size);
  return Show(cli,
              cli.Connect().Call(cli.Connect().notifications(),
                                 &v1::NotificationService::Stub::ListNotifications, request),
              [](const v1::ListNotificationsResponse& response) {
                Table table({"ID", "", "KIND", "INSTANCE", "TASK", "FROM", "DETAIL", "AT"});
                for (const auto& notification : response.notifications()) {
                  table.Add({absl::StrCat(notification.id()), notification.read() ? "" : "*",
                             Name(v1::NotificationKind_Name(notification.kind())),
                             notification.instance_id(), notification.task_id(),
                             notification.actor(), notification.detail(),
                             ShowTime(notification.created_at(), absl::UTCTimeZone())});
                }
                table.Print();
                std::cout << response.unread_count() << " unread\n";
              });
}

absl::Status MarkRead(Cli& cli, const NotificationArgs& args) {
  v1::MarkNotificationsReadRequest request;
  for (int64_t id : args.ids) request.add_ids(id);
  if (args.all) request.set_up_to_id(std::numeric_limits<int64_t>::max());
  if (args.ids.empty() && !args.all) return UsageError("name notification ids, or give --all");
  return Show(cli,
              cli.Connect().Call(cli.Connect().notifications(),
                                 &v1::NotificationService::Stub::MarkNotificationsRead, request),
              [](const v1::MarkNotificationsReadResponse& response) {
                std::cout << response.marked() << " marked read\n";
              });
}

void AddNotificationNoun(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "notification", "your notifications: tasks, reminders, CCs, outcomes",
                     {"signoffctl --as mia notification list --unread",
                      "signoffctl --as mia notification read 12 13"});
  auto args = std::make_shared<NotificationArgs>();
  auto* list = Command(*noun, "list", "newest first; * marks unread",
                       "signoffctl --as mia notification list --unread");
  list->add_flag("--unread", args->unread, "only unread ones");
  list->add_option("--recipient", args->recipient, "another person's (auditors only)");
  list->add_option("--page-size", args->page_size, "how many (1-500)")->capture_default_str();
  list->callback([&cli, args] { cli.run = [&cli, args] { return ListNotifications(cli, *args); }; });
  auto* read = Command(*noun, "read", "mark notifications read",
                       "signoffctl --as mia notification read --all");
  read->add_option("ids", args->ids, "notification ids");
  read->add_flag("--all", args->all, "every notification of yours");
  read->callback([&cli, args] { cli.run = [&cli, args] { return MarkRead(cli, *args); }; });
}

}  // namespace

void AddWatchCommands(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<WatchArgs>();
  auto* watch = Command(
      app, "watch",
      "follow committed events in commit order (auditors and watch-events accounts); with "
      "--cursor-file, resume where the last run stopped",
      "signoffctl --as svc-kpi-monitor watch --cursor-file kpi.cursor --output json");
  watch->add_option("--after", args->after, "start after this cursor (global_seq); 0: the first")
      ->check(CLI::NonNegativeNumber);
  watch->add_option("--cursor-file", args->cursor_file,
                    "read the cursor to start after from this file, and save each item's "
                    "cursor to it once the item is printed");
  watch->add_option("--definition", args->definitions, "only this definition's events");
  watch->add_option("--kind", args->kinds,
                    "only this kind: an event type such as task_created, or notification");
  watch->add_option("--instance", args->instance, "only this instance's events");
  watch->add_option("--heartbeat", args->heartbeat_seconds, "seconds between heartbeats (1-60)")
      ->check(CLI::Range(1, 60));
  watch->add_flag("--heartbeats", args->heartbeats, "print heartbeats too");
  watch->add_option("--count", args->count, "stop after this many items (0: follow until stopped)")
      ->check(CLI::NonNegativeNumber);
  watch->add_flag("--catch-up", args->catch_up,
                  "stop once everything committed so far was shown (at the first heartbeat)");
  watch->callback([&cli, args] { cli.run = [&cli, args] { return Watch(cli, *args); }; });
  AddNotificationNoun(app, cli);
}

}  // namespace signoff::cli
