#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/app/app_context.h"
#include "storage/store.h"

namespace signoff::app {

// One HTTP POST of a delivery, as the sender hands it to the transport.
struct WebhookPost {
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // For the whole exchange: connecting, sending and the answer.
  absl::Duration timeout;
};

// Posts deliveries; the only part that speaks HTTP, and it lives in
// server/. Called from several threads at once.
class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // OK for a 2xx answer; otherwise why not, in words for last_error (the
  // status line, a timeout, a refused connection).
  virtual absl::Status Post(const WebhookPost& post) = 0;
};

struct WebhookSenderOptions {
  // Deliveries in flight at once (each on a thread of its own).
  int concurrency = 4;
  // The wait after the n-th failed attempt is backoff_base * 2^(n-1), at
  // most backoff_cap.
  absl::Duration backoff_base = absl::Seconds(1);
  absl::Duration backoff_cap = absl::Minutes(5);
  absl::Duration timeout = absl::Seconds(10);
  // How often the outbox is looked at with no wake-up: for deliveries
  // written or replayed by other replicas.
  absl::Duration poll = absl::Seconds(1);
  // Names this process's leases; unique per process.
  std::string lease_owner = "signoffd";
  // Wall time: retries, leases and signature times are real seconds, not
  // the application's clock.
  Clock clock = [] { return absl::Now(); };
  std::function<void(const absl::Status&)> report_failure = [](const absl::Status&) {};
};

// The wait before the attempt after `attempts_made` failed ones.
absl::Duration WebhookBackoff(int attempts_made, absl::Duration base, absl::Duration cap);

// Sends the outbox: leases due deliveries from the store (the oldest
// pending one of each subscription, so each subscription's deliveries go
// out one at a time, in feed order), signs and posts them, and records
// each attempt: delivered, retried after a backoff, or dead after the
// subscription's max_attempts. A lease outlives the timeout, so a
// delivery is posted by one sender at a time, across replicas too; one
// whose sender died goes out again when its lease ends.
class WebhookSender {
 public:
  WebhookSender(storage::Store& store, WebhookTransport& transport, WebhookSenderOptions options);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void Start();
  // Lets the posts under way finish (each within the timeout), then ends.
  void Stop();
  // New deliveries may be due. Never blocks.
  void Nudge();

 private:
  void Coordinate();
  void Work();
  void Send(const storage::ClaimedDelivery& claimed);
  absl::StatusOr<std::vector<storage::ClaimedDelivery>> Claim(int limit);
  // The next time the coordinator must look, without a wake-up.
  absl::Time NextLook(absl::Time now) const;

  storage::Store& store_;
  WebhookTransport& transport_;
  const WebhookSenderOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable work_;
  std::deque<storage::ClaimedDelivery> queue_;
  int busy_ = 0;
  bool nudged_ = false;
  bool stopping_ = false;
  // Set once the coordinator has ended, so that nothing it claimed is left
  // leased and unsent.
  bool workers_stopping_ = false;
  // The earliest retry this sender scheduled and has not looked for yet.
  absl::Time earliest_retry_ = absl::InfiniteFuture();
  std::thread coordinator_;
  std::vector<std::thread> workers_;
};

}  // namespace signoff::app
