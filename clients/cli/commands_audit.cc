// `audit verify`: checks the hash chain of every instance's trail.
// `audit admin-log`: the admin audit trail, with its chain checked.
#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::InstanceService::Stub;

// A server whose paging never ends must not keep the audit running.
constexpr int kMaxPages = 1000000;

struct AuditResult {
  int checked = 0;
  std::vector<std::string> broken;
};

absl::StatusOr<AuditResult> VerifyAll(Cli& cli) {
  AuditResult result;
  v1::ListInstancesRequest list;
  list.set_page_size(100);
  for (int page_number = 0; page_number < kMaxPages; ++page_number) {
    auto page = cli.Connect().Call(cli.Connect().instances(), &Stub::ListInstances, list);
    if (!page.ok()) return page.status();
    for (const auto& instance : page->instances()) {
      v1::GetHistoryRequest request;
      request.set_instance_id(instance.id());
      auto history = cli.Connect().Call(cli.Connect().instances(), &Stub::GetHistory, request);
      if (!history.ok()) return history.status();
      ++result.checked;
      if (!history->chain_verified()) result.broken.push_back(instance.id());
    }
    if (page->next_page_token().empty()) return result;
    if (page->next_page_token() == list.page_token()) {
      return absl::InternalError("the server repeated a page token; stopping");
    }
    list.set_page_token(page->next_page_token());
  }
  return absl::InternalError("too many pages; stopping");
}

absl::Status Verify(Cli& cli) {
  auto result = VerifyAll(cli);
  if (!result.ok()) return result.status();
  if (cli.json()) {
    std::cout << "{\"checked\":" << result->checked << ",\"broken\":[";
    for (size_t i = 0; i < result->broken.size(); ++i) {
      std::cout << (i ? "," : "") << "\"" << result->broken[i] << "\"";
    }
    std::cout << "]}\n";
  } else {
    Table table({"INSTANCE", "TRAIL"});
    for (const auto& id : result->broken) table.Add({id, "BROKEN"});
    if (!result->broken.empty()) table.Print();
    std::cout << result->checked << " instance(s) checked, " << result->broken.size()
              << " with a broken trail\n";
  }
  if (!result->broken.empty()) {
    return absl::DataLossError(absl::StrCat(result->broken.size(),
                                            " instance trail(s) do not verify"));
  }
  return absl::OkStatus();
}

struct AdminLogArgs {
  int64_t after = 0;
  // 0: every event to the end of the trail.
  int64_t limit = 0;
};

// The server's largest page.
constexpr int kAdminPageSize = 1000;

// The trail after args.after, page by page, to its end or to args.limit
// events, as one response: every event read, the last page's head and
// continuation, and verified only if every page was.
absl::StatusOr<v1::ListAdminEventsResponse> ReadAdminLog(Cli& cli, const AdminLogArgs& args) {
  v1::ListAdminEventsResponse log;
  log.set_chain_verified(true);
  v1::ListAdminEventsRequest request;
  request.set_after_seq(args.after);
  for (int page_number = 0; page_number < kMaxPages; ++page_number) {
    const int64_t wanted = args.limit == 0 ? kAdminPageSize : args.limit - log.events_size();
    request.set_page_size(static_cast<int32_t>(std::min<int64_t>(wanted, kAdminPageSize)));
    auto page = cli.Connect().Call(cli.Connect().audit(), &v1::AuditService::Stub::ListAdminEvents,
                                   request);
    if (!page.ok()) return page.status();
    log.mutable_events()->MergeFrom(page->events());
    log.set_chain_verified(log.chain_verified() && page->chain_verified());
    log.set_next_after_seq(page->next_after_seq());
    log.set_event_count(page->event_count());
    log.set_head_hash(page->head_hash());
    const bool trail_ended = page->events_size() < request.page_size();
    if (trail_ended || (args.limit > 0 && log.events_size() >= args.limit)) return log;
    if (page->next_after_seq() <= request.after_seq()) {
      return absl::InternalError("the server repeated a page of the admin trail; stopping");
    }
    request.set_after_seq(page->next_after_seq());
  }
  return absl::InternalError("too many pages; stopping");
}

// What an admin event changed, in a few words.
std::string AdminDetail(const v1::AdminEvent& event, absl::TimeZone zone) {
  auto document = [](const v1::DocumentPublished& published) {
    std::string detail = absl::StrCat("version ", published.version(), ", sha256 ",
                                      published.digest().substr(0, 12));
    if (!published.origin().empty()) absl::StrAppend(&detail, ", from ", published.origin());
    return detail;
  };
  auto directory = [](const v1::DirectoryChange& change) {
    return absl::StrCat(change.departments_size(), " department(s), ", change.users_size(),
                        " user(s)");
  };
  auto delegation = [zone](const v1::Delegation& set) {
    return absl::StrCat(set.id(), ": to ", set.delegate(), " from ",
                        ShowTime(set.starts_at(), zone), " until ", ShowTime(set.ends_at(), zone));
  };
  switch (event.body_case()) {
    case v1::AdminEvent::kDefinitionPublished:
      return document(event.definition_published());
    case v1::AdminEvent::kCalendarPublished:
      return document(event.calendar_published());
    case v1::AdminEvent::kUsersUpserted:
      return directory(event.users_upserted());
    case v1::AdminEvent::kDepartmentsUpserted:
      return directory(event.departments_upserted());
    case v1::AdminEvent::kDirectorySeeded:
      return directory(event.directory_seeded());
    case v1::AdminEvent::kAdminGranted:
      return directory(event.admin_granted());
    case v1::AdminEvent::kDelegationSet:
      return delegation(event.delegation_set());
    case v1::AdminEvent::kDelegationRemoved:
      return delegation(event.delegation_removed());
    case v1::AdminEvent::kLedgerLimitSet: {
      const v1::LedgerLimitSet& set = event.ledger_limit_set();
      return absl::StrFormat(
          "%s%speriod %s: limit %.2f -> %.2f%s%s", set.key().empty() ? "" : "key ",
          set.key().empty() ? "" : set.key() + ", ", set.period(), set.previous_limit(),
          set.limit(), set.unit().empty() ? "" : " ", set.unit());
    }
    default:
      return "";
  }
}

void PrintAdminLog(const v1::ListAdminEventsResponse& log, absl::TimeZone zone) {
  Table table({"SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "DETAIL"});
  for (const auto& event : log.events()) {
    table.Add({absl::StrCat(event.seq()), ShowTime(event.time(), zone), event.actor(),
               event.action(), event.target(), AdminDetail(event, zone)});
  }
  table.Print();
  std::cout << log.events_size() << " admin event(s) shown of " << log.event_count() << "; ";
  if (log.chain_verified()) {
    std::cout << "hash chain verified, head " << log.head_hash().substr(0, 16) << "\n";
  } else {
    std::cout << "HASH CHAIN BROKEN: the admin trail was altered or cut short\n";
  }
}

absl::Status AdminLog(Cli& cli, const AdminLogArgs& args) {
  auto log = ReadAdminLog(cli, args);
  if (!log.ok()) return log.status();
  if (cli.json()) {
    PrintJson(*log);
  } else {
    PrintAdminLog(*log, cli.zones().Default());
  }
  if (!log->chain_verified()) {
    return absl::DataLossError("the admin audit trail does not verify: it was altered or cut short");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BrokenChain(const std::string& instance_id) {
  return absl::DataLossError(absl::StrCat("the audit trail of ", instance_id,
                                          " does not verify: it was altered or cut short"));
}

void AddAuditCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "audit", "check the tamper-evident audit trails",
                     {"signoffctl --as grace.liu audit verify",
                      "signoffctl --as olivia.ke audit admin-log --after 40"});
  auto* verify = Command(*noun, "verify",
                         "recompute every instance's hash chain and compare it with the "
                         "head the instance keeps; exits 1 if any trail does not verify",
                         "signoffctl --as grace.liu -o json audit verify");
  verify->callback([&cli] { cli.run = [&cli] { return Verify(cli); }; });

  auto args = std::make_shared<AdminLogArgs>();
  auto* admin_log = Command(
      *noun, "admin-log",
      "list the admin audit trail (published definitions and calendars, directory changes) "
      "to its end and check its hash chain; needs the auditor role; exits 1 if the chain "
      "does not verify",
      "signoffctl --as olivia.ke -o json audit admin-log --limit 20");
  admin_log->add_option("--after", args->after, "show the events after this seq")
      ->check(CLI::NonNegativeNumber);
  admin_log->add_option("--limit", args->limit, "show at most this many events (0: all)")
      ->check(CLI::NonNegativeNumber);
  admin_log->callback([&cli, args] { cli.run = [&cli, args] { return AdminLog(cli, *args); }; });
}

}  // namespace signoff::cli
