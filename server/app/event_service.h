#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/access_control.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/event_feed.h"
#include "signoff/v1/events.pb.h"

namespace signoff::app {

// A committed event as `scope` gets it: confidential form fields cleared
// unless the watcher reads the definition whole.
absl::StatusOr<v1::FeedEvent> FeedEventFor(AppContext& context, const WatchScope& scope,
                                           const storage::FeedRecord& record);

// One follower's stream: which items it wants, and where it is. Not
// thread-safe: one thread at a time drives a watch.
class EventWatch {
 public:
  EventWatch(AppContext& context, EventFeed& feed, Caller caller, WatchScope scope,
             const v1::WatchEventsRequest& request, absl::Duration heartbeat_interval);

  // Every item up to here was looked at and sent, or left out.
  int64_t cursor() const { return cursor_; }
  absl::Duration heartbeat_interval() const { return heartbeat_interval_; }
  // True while the feed holds events past the cursor.
  bool Behind() const { return cursor_ < feed_.head(); }

  // The items of up to `max_events` events past the cursor, which moves
  // past them. From memory only: nullopt when the cursor is older than the
  // feed's window, and Next must read the store.
  std::optional<absl::StatusOr<std::vector<v1::WatchEventsResponse>>> NextFromWindow(
      int max_events);
  // As NextFromWindow, reading the store when it must; may block.
  absl::StatusOr<std::vector<v1::WatchEventsResponse>> Next(int max_events);

  v1::WatchEventsResponse Heartbeat(absl::Time now) const;

  // Whether the caller may still follow: the directory may have disabled
  // the account or taken its permission since the stream began.
  absl::Status StillAllowed() const;

 private:
  absl::StatusOr<std::vector<v1::WatchEventsResponse>> Select(const std::vector<FeedItem>& items);
  bool Wants(const storage::FeedRecord& record) const;

  AppContext& context_;
  EventFeed& feed_;
  const Caller caller_;
  const WatchScope scope_;
  const std::set<std::string> definition_keys_;
  const std::set<std::string> kinds_;
  const std::string instance_id_;
  const absl::Duration heartbeat_interval_;
  int64_t cursor_;
};

// EventService: the resumable stream of committed events.
class EventService {
 public:
  EventService(AppContext& context, EventFeed& feed)
      : context_(context), feed_(feed), access_(context) {}

  // Checks the caller and the request and returns the watch that the
  // transport drives. PERMISSION_DENIED for callers who may not follow
  // events; INVALID_ARGUMENT for a bad cursor, kind, definition or
  // heartbeat; NOT_FOUND for an instance the caller may not follow.
  absl::StatusOr<std::unique_ptr<EventWatch>> WatchEvents(const Caller& caller,
                                                          const v1::WatchEventsRequest& request);

  EventFeed& feed() { return feed_; }

 private:
  absl::Status CheckFilters(const WatchScope& scope, const v1::WatchEventsRequest& request);

  AppContext& context_;
  EventFeed& feed_;
  AccessControl access_;
};

// Every kind a stream may ask for: each Event type, and "notification".
const std::set<std::string>& StreamKinds();

}  // namespace signoff::app
