#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/ledgers.pb.h"
#include "workflow/ledgers.h"

namespace signoff::app {

// LedgerService: the balances of the ledgers definitions declare, read by
// the definition's process admins and by auditors; limits set by process
// admins.
class LedgerService {
 public:
  LedgerService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline) {}

  absl::StatusOr<v1::ListLedgersResponse> ListLedgers(const Caller& caller,
                                                      const v1::ListLedgersRequest& request);
  absl::StatusOr<v1::GetLedgerResponse> GetLedger(const Caller& caller,
                                                  const v1::GetLedgerRequest& request);
  absl::StatusOr<v1::GetLedgerResponse> SetLedgerLimit(const Caller& caller,
                                                       const v1::SetLedgerLimitRequest& request);

 private:
  struct Target;
  // The definition and ledger a request names, once the caller may read
  // (or, with `to_set`, set) its balances.
  absl::StatusOr<Target> Resolve(const Caller& caller, const std::string& definition_key,
                                 const std::string& ledger, bool to_set);
  // The position a request names: the period given, or the one holding now.
  absl::StatusOr<v1::LedgerPosition> PositionOf(const Target& target, const std::string& key,
                                                const std::string& period);
  // The stored balance, or the ledger's declared limit with nothing used.
  absl::StatusOr<workflow::LedgerBalance> Read(const Target& target,
                                               const v1::LedgerPosition& position);

  AppContext& context_;
  CommandPipeline& pipeline_;
};

}  // namespace signoff::app
