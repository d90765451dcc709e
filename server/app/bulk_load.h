#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/application.h"

namespace signoff::app {

// How far a bulk load has come, as reported while it runs.
struct BulkLoadProgress {
  int64_t started = 0;
  int64_t total = 0;
  absl::Duration elapsed;
};

struct BulkLoadOptions {
  int64_t instances = 0;
  // Published definition keys; instance n starts definition n mod their
  // count, so several keys share the load evenly.
  std::vector<std::string> definition_keys;
  // Starts in flight at once; the store's writer groups their commits.
  int threads = 8;
  // Called from the thread that runs BulkLoad, every progress_interval.
  std::function<void(const BulkLoadProgress&)> on_progress;
  absl::Duration progress_interval = absl::Seconds(5);
};

struct BulkLoadResult {
  int64_t started = 0;
  absl::Duration elapsed;
};

// Starts `instances` instances through InstanceService::StartInstance, as
// a person would, so that every row, event, task and timer is the engine's
// own. Applicants are the directory's users who have a manager, taken in
// turn, so that approval steps land in many managers' inboxes and
// candidate-group steps in one large group queue. Forms are made from each
// definition's form schema: required fields and the subject field get a
// valid value, subjects are unique per load. The instances' times come
// from the application's clock, which may be set in the past so that
// their deadlines have passed.
//
// INVALID_ARGUMENT for bad options, NOT_FOUND for a definition that is not
// published, FAILED_PRECONDITION for a directory with no users to apply;
// otherwise the first start that failed, naming the instance. Instances
// started before a failure stay.
absl::StatusOr<BulkLoadResult> BulkLoad(Application& app, const BulkLoadOptions& options);

}  // namespace signoff::app
