#include "server/readiness.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "server/json_log.h"

namespace signoff::server {

ReadinessProbe::ReadinessProbe(app::Application& application,
                               grpc::HealthCheckServiceInterface& health, absl::Duration poll)
    : application_(application), health_(health), poll_(poll), thread_([this] { Run(); }) {}

ReadinessProbe::~ReadinessProbe() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ReadinessProbe::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    Check();
    lock.lock();
    wake_.wait_for(lock, absl::ToChronoMilliseconds(poll_), [this] { return stopping_; });
  }
}

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

}  // namespace signoff::server
