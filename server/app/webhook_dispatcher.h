#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/app_context.h"
#include "server/app/event_feed.h"
#include "server/app/round_loop.h"
#include "server/app/webhook_matcher.h"

namespace signoff::app {

struct WebhookDispatcherOptions {
  // Feed items matched per commit.
  int page = 256;
  // How often the feed is looked at with no wake-up: for subscriptions
  // made on other replicas, and after a failed round.
  absl::Duration poll = absl::Seconds(1);
  // Stamps the deliveries' created_at.
  Clock clock = [] { return absl::Now(); };
  // Told of a round that failed (it is retried at the next poll); the
  // transport logs it.
  std::function<void(const absl::Status&)> report_failure = [](const absl::Status&) {};
};

// Follows the event feed off the request path and writes the outbox: each
// round reads the stored dispatch position, the feed items after it and
// the live subscriptions, and commits the matched deliveries together with
// the position's advance. A restart resumes from the stored position, so
// nothing matched is lost or matched twice; a round that lost to another
// replica, or to a subscription created or deleted meanwhile, is
// abandoned and run again.
class WebhookDispatcher {
 public:
  // Up to `limit` feed items after `after`, in commit order.
  using FeedReader =
      std::function<absl::StatusOr<std::vector<FeedItem>>(int64_t after, int limit)>;

  WebhookDispatcher(AppContext& context, FeedReader read_feed, WebhookDispatcherOptions options);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Called after deliveries were written: the sender's wake-up.
  void OnDeliveriesWritten(std::function<void()> callback) {
    deliveries_written_ = std::move(callback);
  }

  void Start();
  // Ends the round under way, then the thread.
  void Stop();
  // Something committed: look at the feed now. Never blocks.
  void Nudge();

  // One round, on the caller's thread: how many feed items it matched
  // (0 when the feed had nothing new). Tests drive this directly.
  absl::StatusOr<int> RunRound();

 private:
  AppContext& context_;
  WebhookMatcher matcher_;
  FeedReader read_feed_;
  const WebhookDispatcherOptions options_;
  std::function<void()> deliveries_written_;
  // When the position last moved on with no subscription to match; only
  // the dispatcher's thread touches it.
  absl::Time last_idle_advance_ = absl::InfinitePast();
  RoundLoop loop_;
};

}  // namespace signoff::app
