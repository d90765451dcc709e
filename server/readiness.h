#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/health_check_service_interface.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/app/application.h"

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
  void Run();
  void Check();

  app::Application& application_;
  grpc::HealthCheckServiceInterface& health_;
  const absl::Duration poll_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  // The last verdict, logged when it changes.
  bool ready_ = true;
  std::thread thread_;
};

}  // namespace signoff::server
