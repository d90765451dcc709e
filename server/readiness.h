#pragma once

#include <string>

#include <grpcpp/health_check_service_interface.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/app/application.h"
#include "server/periodic_task.h"

namespace signoff::server {

// Keeps the "readiness" health status in step with whether the database
// can be written: NOT_SERVING while its file is gone or replaced, its
// folder read-only or its disk full, so that a balancer stops sending
// changes that would fail. Liveness is left alone: the process is fine.
class ReadinessProbe {
 public:
  ReadinessProbe(app::Application& application, grpc::HealthCheckServiceInterface& health,
                 absl::Duration poll);
  // Stops polling; the status is left as it was.
  ~ReadinessProbe();

  ReadinessProbe(const ReadinessProbe&) = delete;
  ReadinessProbe& operator=(const ReadinessProbe&) = delete;

 private:
  void Check();

  app::Application& application_;
  grpc::HealthCheckServiceInterface& health_;
  // The last verdict, logged when it changes.
  bool ready_ = true;
  // Last, so that it stops before what it uses goes.
  PeriodicTask task_;
};

// Reloads the cached directory and calendars, and drops cached latest
// definitions, when another process (a replica, `signoffd seed`) changed
// them: a user added through one replica can call the others within one
// poll.
class CatalogFollower {
 public:
  CatalogFollower(app::Application& application, absl::Duration poll);

 private:
  void Follow();

  app::Application& application_;
  // The last failure, logged when it changes.
  std::string failure_;
  PeriodicTask task_;
};

}  // namespace signoff::server
