#pragma once

// The SQL behind the KPI report projections (storage/reports.h).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/reports.h"

namespace soci {
class session;
}

namespace signoff::storage {

absl::StatusOr<int64_t> QueryReportPosition(soci::session& session);
absl::StatusOr<ReportFacts> QueryReportFacts(soci::session& session,
                                             const std::vector<std::string>& instance_ids);
absl::StatusOr<std::vector<ReportCell>> QueryReportCells(soci::session& session,
                                                         const Dialect& dialect,
                                                         const ReportCellQuery& query);
absl::StatusOr<std::vector<ReportTaskFact>> QueryOpenReportTasks(
    soci::session& session, const std::string& definition_key);

// Applies a mutation's report writes inside the writer's transaction.
// ABORTED for an advance that lost to another projector; database errors
// are thrown.
absl::Status ApplyReportWrites(soci::session& session, const ReportWrites& writes);

// "bucket:count,..." and back; the text form cells keep their histograms
// in, the same on both backends.
std::string EncodeHistogram(const Histogram& histogram);
absl::StatusOr<Histogram> DecodeHistogram(const std::string& text);

}  // namespace signoff::storage
