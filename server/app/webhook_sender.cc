#include "server/app/webhook_sender.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/app/webhook_signature.h"

namespace signoff::app {
namespace {

// last_error keeps the start of what went wrong.
constexpr size_t kMaxErrorBytes = 500;

// Leases outlive an attempt by this much, so that a slow commit of its
// outcome does not let another sender post it again.
constexpr absl::Duration kLeaseMargin = absl::Seconds(30);

}  // namespace

absl::Duration WebhookBackoff(int attempts_made, absl::Duration base, absl::Duration cap) {
  absl::Duration wait = base;
  for (int i = 1; i < attempts_made && wait < cap; ++i) wait *= 2;
  return std::min(wait, cap);
}

WebhookSender::WebhookSender(storage::Store& store, WebhookTransport& transport,
                             WebhookSenderOptions options)
    : store_(store), transport_(transport), options_(std::move(options)) {}

WebhookSender::~WebhookSender() { Stop(); }

void WebhookSender::Start() {
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) {
    workers_.emplace_back([this] { Work(); });
  }
  coordinator_ = std::thread([this] { Coordinate(); });
}

void WebhookSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // The coordinator first: what it claimed last is still posted.
  if (coordinator_.joinable()) coordinator_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_stopping_ = true;
  }
  work_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void WebhookSender::Nudge() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    nudged_ = true;
  }
  wake_.notify_all();
}

absl::Time WebhookSender::NextLook(absl::Time now) const {
  return std::min(now + options_.poll, earliest_retry_);
}

void WebhookSender::Coordinate() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    nudged_ = false;
    // A retry that has come due is looked for by this claim.
    if (earliest_retry_ <= options_.clock()) earliest_retry_ = absl::InfiniteFuture();
    const int free = std::max(1, options_.concurrency) - busy_;
    if (free > 0) {
      lock.unlock();
      absl::StatusOr<std::vector<storage::ClaimedDelivery>> claimed = Claim(free);
      lock.lock();
      if (!claimed.ok()) {
        options_.report_failure(claimed.status());
      } else if (!claimed->empty()) {
        const int taken = static_cast<int>(claimed->size());
        busy_ += taken;
        for (auto& delivery : *claimed) queue_.push_back(std::move(delivery));
        work_.notify_all();
        // More may be due than there were free workers.
        if (taken == free) continue;
      }
    }
    const absl::Time now = options_.clock();
    wake_.wait_for(lock, absl::ToChronoMilliseconds(std::max(
                             absl::Milliseconds(1), NextLook(now) - now)),
                   [this] { return stopping_ || nudged_; });
  }
}

void WebhookSender::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return workers_stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    storage::ClaimedDelivery delivery = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Send(delivery);
    lock.lock();
    --busy_;
    // A free worker, and the subscription's next delivery may now go.
    nudged_ = true;
    wake_.notify_all();
  }
}

absl::StatusOr<std::vector<storage::ClaimedDelivery>> WebhookSender::Claim(int limit) {
  storage::Mutation mutation;
  mutation.webhooks.claim = storage::DeliveryClaim{
      options_.clock(), options_.lease_owner, options_.timeout + kLeaseMargin, limit};
  absl::StatusOr<storage::CommitResult> result = store_.Commit(std::move(mutation));
  if (!result.ok()) return result.status();
  return std::move(result->webhooks.claimed);
}

void WebhookSender::Send(const storage::ClaimedDelivery& claimed) {
  const storage::ClaimedDelivery& c = claimed;
  const int64_t signed_at = absl::ToUnixSeconds(options_.clock());
  WebhookPost post{c.url, c.body, {}, options_.timeout};
  post.headers = {
      {"Content-Type", "application/json"},
      {"Signoff-Webhook-Id", c.delivery.webhook_id()},
      {"Signoff-Delivery-Id", c.delivery.id()},
      {"Signoff-Signature", WebhookSignature(c.secret, signed_at, c.body)},
  };
  const absl::Status sent = transport_.Post(post);
  storage::DeliveryOutcome outcome;
  outcome.id = c.delivery.id();
  outcome.owner = options_.lease_owner;
  outcome.at = options_.clock();
  outcome.delivered = sent.ok();
  if (!sent.ok()) {
    const int made = c.delivery.attempts() + 1;
    outcome.error = std::string(sent.message().substr(0, kMaxErrorBytes));
    outcome.dead = made >= c.max_attempts;
    outcome.next_attempt_at =
        outcome.at + WebhookBackoff(made, options_.backoff_base, options_.backoff_cap);
  }
  storage::Mutation mutation;
  mutation.webhooks.outcomes.push_back(outcome);
  absl::StatusOr<storage::CommitResult> recorded = store_.Commit(std::move(mutation));
  if (!recorded.ok()) {
    // The lease runs out and the delivery is posted again: at least once.
    options_.report_failure(recorded.status());
    return;
  }
  if (!sent.ok() && !outcome.dead) {
    std::lock_guard<std::mutex> lock(mutex_);
    earliest_retry_ = std::min(earliest_retry_, outcome.next_attempt_at);
  }
}

}  // namespace signoff::app
