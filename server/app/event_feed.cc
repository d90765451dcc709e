#include "server/app/event_feed.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "workflow/status_macros.h"

namespace signoff::app {

EventFeed::~EventFeed() { Shutdown(); }

absl::Status EventFeed::Start(EventFeedOptions options) {
  SIGNOFF_ASSIGN_OR_RETURN(const int64_t head, store_.FeedHead());
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return absl::OkStatus();
  if (options.window < 1 || options.page < 1 || options.tick <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the event feed needs a window, a page and a tick");
  }
  options_ = options;
  started_ = true;
  head_ = floor_ = head;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void EventFeed::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_) return;
    shutting_down_ = true;
  }
  wake_.notify_all();
  advanced_.notify_all();
  if (thread_.joinable()) thread_.join();
  Dispatch([](const Subscriber& subscriber) {
    if (subscriber.on_shutdown) subscriber.on_shutdown();
  });
}

bool EventFeed::shut_down() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return shutting_down_;
}

void EventFeed::CommitNoticed() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    commit_noticed_ = true;
  }
  wake_.notify_one();
}

int64_t EventFeed::head() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return head_;
}

void EventFeed::Run() {
  absl::Time next_tick = absl::Now() + options_.tick;
  absl::Time next_follow = absl::Now() + options_.follow_other_writers;
  const bool follows_others = options_.follow_other_writers > absl::ZeroDuration();
  for (;;) {
    bool read = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      absl::Time until = next_tick;
      if (follows_others) until = std::min(until, next_follow);
      wake_.wait_for(lock, absl::ToChronoNanoseconds(std::max(absl::ZeroDuration(),
                                                              until - absl::Now())),
                     [&] { return commit_noticed_ || shutting_down_; });
      if (shutting_down_) return;
      read = commit_noticed_;
      commit_noticed_ = false;
    }
    const absl::Time now = absl::Now();
    if (follows_others && now >= next_follow) {
      read = true;
      next_follow = now + options_.follow_other_writers;
    }
    if (read) {
      absl::StatusOr<bool> moved = ReadNewCommits();
      if (!moved.ok()) {
        // The store is unreachable for now: try again at the next tick,
        // so that nothing committed meanwhile is left behind.
        std::fprintf(stderr, "event feed: %s\n", moved.status().ToString().c_str());
        std::lock_guard<std::mutex> lock(mutex_);
        commit_noticed_ = true;
      } else if (*moved) {
        advanced_.notify_all();
        Dispatch([](const Subscriber& subscriber) {
          if (subscriber.on_news) subscriber.on_news();
        });
      }
    }
    if (now >= next_tick) {
      next_tick = now + options_.tick;
      Dispatch([now](const Subscriber& subscriber) {
        if (subscriber.on_tick) subscriber.on_tick(now);
      });
    }
  }
}

absl::StatusOr<bool> EventFeed::ReadNewCommits() {
  bool moved = false;
  for (;;) {
    const int64_t after = head();
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::FeedRecord> records,
                             store_.ListFeedSince(after, options_.page));
    const bool full_page = static_cast<int>(records.size()) == options_.page;
    if (!records.empty()) {
      moved = true;
      Append(std::move(records));
    }
    if (!full_page) return moved;
  }
}

void EventFeed::Append(std::vector<storage::FeedRecord> records) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& record : records) {
    head_ = record.event.global_seq();
    window_.push_back(std::make_shared<const storage::FeedRecord>(std::move(record)));
  }
  while (static_cast<int>(window_.size()) > options_.window) {
    floor_ = window_.front()->event.global_seq();
    window_.pop_front();
  }
}

std::optional<std::vector<FeedItem>> EventFeed::ReadWindow(int64_t after, int limit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (after < floor_) return std::nullopt;
  auto first = std::upper_bound(
      window_.begin(), window_.end(), after,
      [](int64_t seq, const FeedItem& item) { return seq < item->event.global_seq(); });
  std::vector<FeedItem> items;
  for (auto it = first; it != window_.end() && static_cast<int>(items.size()) < limit; ++it) {
    items.push_back(*it);
  }
  return items;
}

absl::StatusOr<std::vector<FeedItem>> EventFeed::Read(int64_t after, int limit) {
  if (limit < 1) return absl::InvalidArgumentError("a feed read takes at least one event");
  if (auto from_window = ReadWindow(after, limit)) return *std::move(from_window);
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::FeedRecord> records,
                           store_.ListFeedSince(after, limit));
  std::vector<FeedItem> items;
  items.reserve(records.size());
  for (auto& record : records) {
    items.push_back(std::make_shared<const storage::FeedRecord>(std::move(record)));
  }
  return items;
}

int64_t EventFeed::WaitBeyond(int64_t after, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  advanced_.wait_for(lock, absl::ToChronoNanoseconds(std::max(absl::ZeroDuration(), timeout)),
                     [&] { return head_ > after || shutting_down_; });
  return head_;
}

uint64_t EventFeed::Subscribe(Subscriber subscriber) {
  std::lock_guard<std::recursive_mutex> lock(subscribers_mutex_);
  const uint64_t id = next_subscriber_++;
  subscribers_.emplace(id, std::move(subscriber));
  return id;
}

void EventFeed::Unsubscribe(uint64_t id) {
  std::lock_guard<std::recursive_mutex> lock(subscribers_mutex_);
  subscribers_.erase(id);
}

int64_t EventFeed::largest_subscriber_lag() {
  const int64_t newest = head();
  std::lock_guard<std::recursive_mutex> lock(subscribers_mutex_);
  int64_t largest = 0;
  for (const auto& [id, subscriber] : subscribers_) {
    if (subscriber.position != nullptr) {
      largest = std::max(largest, newest - subscriber.position->load());
    }
  }
  return largest;
}

template <typename Call>
void EventFeed::Dispatch(const Call& call) {
  std::lock_guard<std::recursive_mutex> lock(subscribers_mutex_);
  std::vector<uint64_t> ids;
  for (const auto& [id, unused] : subscribers_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto found = subscribers_.find(id);
    // Gone: a subscriber called before unsubscribed it.
    if (found == subscribers_.end()) continue;
    // A copy, since the subscriber may unsubscribe itself while called.
    const Subscriber subscriber = found->second;
    call(subscriber);
  }
}

size_t EventFeed::subscriber_count() {
  std::lock_guard<std::recursive_mutex> lock(subscribers_mutex_);
  return subscribers_.size();
}

}  // namespace signoff::app
