#include "server/readiness.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "server/json_log.h"

namespace signoff::server {

ReadinessProbe::ReadinessProbe(app::Application& application,
                               grpc::HealthCheckServiceInterface& health, absl::Duration poll)
    : application_(application), health_(health), task_(poll, [this] { Check(); }) {}

ReadinessProbe::~ReadinessProbe() = default;

void ReadinessProbe::Check() {
  const absl::Status writable = application_.context().store().CheckWritable();
  const bool ready = writable.ok();
  health_.SetServingStatus("readiness", ready);
  if (ready == ready_) return;
  ready_ = ready;
  std::fputs(absl::StrFormat("{\"level\":\"%s\",\"component\":\"readiness\",\"ready\":%s,"
                             "\"message\":\"%s\"}\n",
                             ready ? "info" : "error", ready ? "true" : "false",
                             JsonEscape(ready ? "the database can be written again"
                                              : std::string(writable.message())))
                 .c_str(),
             stderr);
}

CatalogFollower::CatalogFollower(app::Application& application, absl::Duration poll)
    : application_(application), task_(poll, [this] { Follow(); }) {}

void CatalogFollower::Follow() {
  const absl::Status followed = application_.context().FollowCatalogChanges();
  const std::string failure = followed.ok() ? "" : followed.ToString();
  if (failure == failure_) return;
  failure_ = failure;
  std::fputs(absl::StrFormat("{\"level\":\"%s\",\"component\":\"catalog\",\"message\":\"%s\"}\n",
                             followed.ok() ? "info" : "error",
                             JsonEscape(followed.ok() ? "following catalog changes again"
                                                      : "cannot follow catalog changes: " +
                                                            failure))
                 .c_str(),
             stderr);
}

}  // namespace signoff::server
