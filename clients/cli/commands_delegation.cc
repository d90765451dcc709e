// `signoffctl delegation set|list|remove`: standing delegations (out of
// office), kept by DirectoryService.

#include <iostream>

#include "absl/strings/str_join.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::DirectoryService::Stub;

struct DelegationArgs {
  std::string id;
  std::string delegator;
  std::string delegate;
  std::string from;
  std::string until;
  std::vector<std::string> definitions;
  std::string comment;
  std::string request_id;

  std::string RequestId() const { return request_id.empty() ? NewRequestId() : request_id; }
};

void PrintDelegations(const google::protobuf::RepeatedPtrField<v1::Delegation>& delegations) {
  Table table({"ID", "DELEGATOR", "DELEGATE", "FROM", "UNTIL", "DEFINITIONS"});
  for (const auto& delegation : delegations) {
    table.Add({delegation.id(), delegation.delegator(), delegation.delegate(),
               ShowTime(delegation.starts_at(), absl::UTCTimeZone()),
               ShowTime(delegation.ends_at(), absl::UTCTimeZone()),
               delegation.definition_keys().empty()
                   ? "(all)"
                   : absl::StrJoin(delegation.definition_keys(), ",")});
  }
  table.Print();
}

absl::Status Set(Cli& cli, const DelegationArgs& args) {
  v1::SetDelegationRequest request;
  request.set_request_id(args.RequestId());
  v1::Delegation& delegation = *request.mutable_delegation();
  delegation.set_id(args.id);
  delegation.set_delegator(args.delegator);
  delegation.set_delegate(args.delegate);
  auto from = ParseTimestamp("--from", args.from);
  if (!from.ok()) return from.status();
  auto until = ParseTimestamp("--until", args.until);
  if (!until.ok()) return until.status();
  *delegation.mutable_starts_at() = *from;
  *delegation.mutable_ends_at() = *until;
  for (const auto& key : args.definitions) delegation.add_definition_keys(key);
  delegation.set_comment(args.comment);
  auto response =
      cli.Connect().Call(cli.Connect().directory(), &Stub::SetDelegation, request);
  return Show(cli, response, [](const v1::SetDelegationResponse& answer) {
    google::protobuf::RepeatedPtrField<v1::Delegation> one;
    *one.Add() = answer.delegation();
    PrintDelegations(one);
  });
}

}  // namespace

void AddDelegationCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "delegation",
                     "standing delegations (out of office): new tasks go to a delegate for a time",
                     {"signoffctl --as ivy.wang delegation set --to henry.zhao "
                      "--from 2026-03-02T00:00:00+08:00 --until 2026-03-09T00:00:00+08:00",
                      "signoffctl --as ivy.wang delegation list"});
  auto args = std::make_shared<DelegationArgs>();

  auto* set = Command(*noun, "set",
                      "send your new tasks (or --for someone's, as an administrator) to a delegate",
                      "signoffctl --as ivy.wang delegation set --to henry.zhao --from "
                      "2026-03-02T00:00:00+08:00 --until 2026-03-09T00:00:00+08:00 "
                      "--definition probation-review");
  set->add_option("--to", args->delegate, "the delegate's user id")->required();
  set->add_option("--for", args->delegator, "the delegator (default: you)");
  set->add_option("--from", args->from, "when it starts (included), RFC 3339")->required();
  set->add_option("--until", args->until, "when it ends (excluded), RFC 3339")->required();
  set->add_option("--definition", args->definitions,
                  "only tasks of this definition key (repeatable; default: all)");
  set->add_option("--id", args->id, "replace this delegation instead of adding one");
  set->add_option("--comment", args->comment, "a note, e.g. why");
  set->add_option("--request-id", args->request_id, "idempotency key; repeating it is safe");
  set->callback([&cli, args] { cli.run = [&cli, args] { return Set(cli, *args); }; });

  auto* list = Command(*noun, "list", "delegations you give or receive (administrators: all)",
                       "signoffctl --as ivy.wang delegation list --delegator ivy.wang");
  list->add_option("--delegator", args->delegator, "only those this user gives");
  list->add_option("--delegate", args->delegate, "only those this user receives");
  list->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::ListDelegationsRequest request;
      request.set_delegator(args->delegator);
      request.set_delegate(args->delegate);
      return Show(cli,
                  cli.Connect().Call(cli.Connect().directory(), &Stub::ListDelegations, request),
                  [](const v1::ListDelegationsResponse& answer) {
                    PrintDelegations(answer.delegations());
                  });
    };
  });

  auto* remove = Command(*noun, "remove", "end a delegation now: new tasks go to the delegator again",
                         "signoffctl --as ivy.wang delegation remove dg0123");
  remove->add_option("id", args->id, "delegation id")->required();
  remove->add_option("--request-id", args->request_id, "idempotency key; repeating it is safe");
  remove->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::RemoveDelegationRequest request;
      request.set_request_id(args->RequestId());
      request.set_id(args->id);
      return Show(cli,
                  cli.Connect().Call(cli.Connect().directory(), &Stub::RemoveDelegation, request),
                  [](const v1::RemoveDelegationResponse& answer) {
                    std::cout << "removed " << answer.removed().id() << " ("
                              << answer.removed().delegator() << " to "
                              << answer.removed().delegate() << ")\n";
                  });
    };
  });
}

}  // namespace signoff::cli
