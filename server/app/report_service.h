#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "signoff/v1/reports.pb.h"

namespace signoff::app {

// ReportService: KPIs over a period and a definition, summed from the
// report projections' cells (storage/reports.h), never from events; the
// ledger report from the stored ledger balances. Who sees what:
// server/app/report_request.h.
class ReportService {
 public:
  explicit ReportService(AppContext& context) : context_(context) {}

  absl::StatusOr<v1::VolumeReport> GetVolumeReport(const Caller& caller,
                                                   const v1::ReportRequest& request);
  absl::StatusOr<v1::TimingReport> GetTimingReport(const Caller& caller,
                                                   const v1::ReportRequest& request);
  absl::StatusOr<v1::SlaReport> GetSlaReport(const Caller& caller,
                                             const v1::ReportRequest& request);
  absl::StatusOr<v1::QualityReport> GetQualityReport(const Caller& caller,
                                                     const v1::ReportRequest& request);
  absl::StatusOr<v1::BacklogReport> GetBacklogReport(const Caller& caller,
                                                     const v1::ReportRequest& request);
  absl::StatusOr<v1::ServiceReport> GetServiceReport(const Caller& caller,
                                                     const v1::ReportRequest& request);
  absl::StatusOr<v1::LedgerReport> GetLedgerReport(const Caller& caller,
                                                   const v1::LedgerReportRequest& request);

 private:
  AppContext& context_;
};

}  // namespace signoff::app
