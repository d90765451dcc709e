#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::LedgerService::Stub;

struct LedgerArgs {
  std::string definition;
  std::string ledger;
  std::string key;
  std::string period;
  double limit = 0;
  std::string request_id;
};

std::string Amount(double amount) { return absl::StrFormat("%.2f", amount); }

void PrintBalances(const google::protobuf::RepeatedPtrField<v1::LedgerBalance>& balances) {
  Table table({"LEDGER", "KEY", "PERIOD", "LIMIT", "RESERVED", "CONSUMED", "REMAINING", "UNIT"});
  for (const auto& balance : balances) {
    table.Add({balance.ledger(), balance.key().empty() ? "-" : balance.key(), balance.period(),
               Amount(balance.limit()), Amount(balance.reserved()), Amount(balance.consumed()),
               Amount(balance.remaining()), balance.unit()});
  }
  table.Print();
}

absl::Status List(Cli& cli, const LedgerArgs& args) {
  v1::ListLedgersRequest request;
  request.set_definition_key(args.definition);
  request.set_ledger(args.ledger);
  request.set_period(args.period);
  return Show(cli, cli.Connect().Call(cli.Connect().ledgers(), &Stub::ListLedgers, request),
              [](const v1::ListLedgersResponse& answer) { PrintBalances(answer.balances()); });
}

void PrintOne(const v1::GetLedgerResponse& answer) {
  google::protobuf::RepeatedPtrField<v1::LedgerBalance> one;
  *one.Add() = answer.balance();
  PrintBalances(one);
}

absl::Status Get(Cli& cli, const LedgerArgs& args) {
  v1::GetLedgerRequest request;
  request.set_definition_key(args.definition);
  request.set_ledger(args.ledger);
  request.set_key(args.key);
  request.set_period(args.period);
  return Show(cli, cli.Connect().Call(cli.Connect().ledgers(), &Stub::GetLedger, request),
              PrintOne);
}

absl::Status SetLimit(Cli& cli, const LedgerArgs& args) {
  v1::SetLedgerLimitRequest request;
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  request.set_definition_key(args.definition);
  request.set_ledger(args.ledger);
  request.set_key(args.key);
  request.set_period(args.period);
  request.set_limit(args.limit);
  return Show(cli, cli.Connect().Call(cli.Connect().ledgers(), &Stub::SetLedgerLimit, request),
              PrintOne);
}

// The options naming one balance: DEFINITION LEDGER [--key] [--period].
void AddPositionOptions(CLI::App& command, LedgerArgs& args) {
  command.add_option("definition", args.definition, "the definition key")->required();
  command.add_option("ledger", args.ledger, "the ledger's name")->required();
  command.add_option("--key", args.key, "the balance's key (e.g. a dealer id); none for a "
                                        "ledger without keys");
  command.add_option("--period", args.period,
                     "YYYY-MM, YYYY-Qn or YYYY as the ledger counts; the current one when unset");
}

}  // namespace

void AddLedgerCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "ledger", "read ledger balances and set their limits",
                     {"signoffctl ledger list loyalty-scheme",
                      "signoffctl ledger get quota-monitoring dealer-quota --key dealer-001",
                      "signoffctl ledger set-limit loyalty-scheme loyalty-budget 2000000 "
                      "--period 2026-Q2"});

  auto list_args = std::make_shared<LedgerArgs>();
  auto* list = Command(*noun, "list", "list a definition's balances by ledger, period and key",
                       "signoffctl ledger list loyalty-scheme --period 2026-Q2");
  list->add_option("definition", list_args->definition, "the definition key")->required();
  list->add_option("--ledger", list_args->ledger, "only this ledger");
  list->add_option("--period", list_args->period, "only this period");
  list->callback([&cli, list_args] {
    cli.run = [&cli, list_args] { return List(cli, *list_args); };
  });

  auto get_args = std::make_shared<LedgerArgs>();
  auto* get = Command(*noun, "get", "show one balance: limit, reserved, consumed, remaining",
                      "signoffctl ledger get quota-monitoring dealer-quota --key dealer-001");
  AddPositionOptions(*get, *get_args);
  get->callback([&cli, get_args] { cli.run = [&cli, get_args] { return Get(cli, *get_args); }; });

  auto set_args = std::make_shared<LedgerArgs>();
  auto* set = Command(*noun, "set-limit", "set the limit of one key and period (process admins)",
                      "signoffctl ledger set-limit loyalty-scheme loyalty-budget 2000000");
  AddPositionOptions(*set, *set_args);
  set->add_option("limit", set_args->limit, "the new limit, at most two decimals")->required();
  set->add_option("--request-id", set_args->request_id, "idempotency key; repeating it is safe");
  set->callback([&cli, set_args] {
    cli.run = [&cli, set_args] { return SetLimit(cli, *set_args); };
  });
}

}  // namespace signoff::cli
