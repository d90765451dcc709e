// `audit verify`: checks the hash chain of every instance's trail.
#include <iostream>

#include "absl/strings/str_cat.h"
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

}  // namespace

absl::Status BrokenChain(const std::string& instance_id) {
  return absl::DataLossError(absl::StrCat("the audit trail of ", instance_id,
                                          " does not verify: it was altered or cut short"));
}

void AddAuditCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "audit", "check the tamper-evident audit trails",
                     {"signoffctl --as grace.liu audit verify"});
  auto* verify = Command(*noun, "verify",
                         "recompute every instance's hash chain and compare it with the "
                         "head the instance keeps; exits 1 if any trail does not verify",
                         "signoffctl --as grace.liu -o json audit verify");
  verify->callback([&cli] { cli.run = [&cli] { return Verify(cli); }; });
}

}  // namespace signoff::cli
