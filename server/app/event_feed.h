#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace signoff::app {

using FeedItem = std::shared_ptr<const storage::FeedRecord>;

struct EventFeedOptions {
  // How many of the newest committed events are kept in memory for
  // followers at the tail; a follower further behind reads the store.
  int window = 8192;
  // Events read from the store at a time.
  int page = 512;
  // How often the feed looks for events committed by other processes
  // sharing the database (replicas on PostgreSQL); zero when this process
  // is the only writer, and commits here wake the feed by themselves.
  absl::Duration follow_other_writers = absl::ZeroDuration();
  // How often subscribers get a tick, for their heartbeats and deadlines.
  absl::Duration tick = absl::Milliseconds(250);
};

// What committed, in commit order, for every follower: event stream
// watchers, webhook dispatch, long-polling job workers. The pipeline's
// post-commit hook wakes it; it then reads the store once for all
// followers (so commits that finish out of order on several writer
// connections still reach followers in global_seq order, with nothing
// skipped) and keeps a bounded window of the newest events. A follower
// behind the window reads the store itself, then joins the tail again: a
// slow follower costs memory for its own page only and never holds up a
// writer.
class EventFeed {
 public:
  explicit EventFeed(storage::Store& store) : store_(store) {}
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Starts the reader thread at the store's current head; later calls
  // change nothing.
  absl::Status Start(EventFeedOptions options);
  // Wakes and ends every subscriber, then the reader thread.
  void Shutdown();

  // For the post-commit hook: never blocks on the store.
  void CommitNoticed();

  // The newest global_seq this feed has read.
  int64_t head() const;

  // Up to `limit` events after `after`, in order: from the window when it
  // reaches back that far, otherwise from the store. Empty when the feed
  // has read nothing newer yet: it reads commits on its own thread, so a
  // caller that must see a commit it just made waits with WaitBeyond.
  absl::StatusOr<std::vector<FeedItem>> Read(int64_t after, int limit);
  // As Read, but only from memory: nullopt when `after` is older than the
  // window, so that the caller can read the store on a thread of its own.
  std::optional<std::vector<FeedItem>> ReadWindow(int64_t after, int limit) const;

  // Called on the feed's thread whenever the head moves, at every tick,
  // and once at shutdown; none of them may block.
  struct Subscriber {
    std::function<void()> on_news;
    std::function<void(absl::Time)> on_tick;
    std::function<void()> on_shutdown;
    // How far the follower has read (a global_seq), for the lag metric;
    // unset for one that keeps no position in memory.
    std::shared_ptr<const std::atomic<int64_t>> position;
  };
  uint64_t Subscribe(Subscriber subscriber);
  void Unsubscribe(uint64_t id);
  // Subscribers now: streams, and other followers such as webhooks.
  size_t subscriber_count();
  // How many events the furthest-behind subscriber with a position has
  // still to read; 0 when none lags.
  int64_t largest_subscriber_lag();

  // Blocks until the head passes `after`, the timeout runs out or the feed
  // shuts down; returns the head.
  int64_t WaitBeyond(int64_t after, absl::Duration timeout);

  bool shut_down() const;

 private:
  void Run();
  // Reads what committed past the head into the window; true when the
  // head moved.
  absl::StatusOr<bool> ReadNewCommits();
  void Append(std::vector<storage::FeedRecord> records);
  template <typename Call>
  void Dispatch(const Call& call);

  storage::Store& store_;
  EventFeedOptions options_;
  mutable std::mutex mutex_;
  // The reader thread waits on wake_, followers on advanced_.
  std::condition_variable wake_;
  std::condition_variable advanced_;
  bool started_ = false;
  bool commit_noticed_ = false;
  bool shutting_down_ = false;
  int64_t head_ = 0;
  // Every event after floor_ up to head_ is in the window, in order.
  int64_t floor_ = 0;
  std::deque<FeedItem> window_;
  // Held while subscribers are called, so that once Unsubscribe returns
  // its subscriber is never called again; recursive, so that a subscriber
  // may unsubscribe itself.
  std::recursive_mutex subscribers_mutex_;
  std::map<uint64_t, Subscriber> subscribers_;
  uint64_t next_subscriber_ = 1;
  std::thread thread_;
};

}  // namespace signoff::app
