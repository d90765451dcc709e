#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/app_context.h"
#include "server/app/event_feed.h"
#include "server/app/round_loop.h"

namespace signoff::app {

struct ReportProjectorOptions {
  // Feed items projected per commit.
  int page = 512;
  // How often the feed is looked at with no wake-up: for commits of
  // other replicas, and after a failed round.
  absl::Duration poll = absl::Seconds(1);
};

// Keeps the KPI report projections (storage/reports.h) up with the event
// feed, off the request path. Each round reads the stored position, the
// feed items after it and the facts of the instances they touch, and
// commits the changed facts and cells together with the position's
// advance.
//
// Why a follower with a stored cursor, rather than writing the
// projections in the commands' own transactions: counting needs the
// definitions, calendars (business time) and directory (departments),
// which the store's writer does not have; aggregate cells shared by many
// instances would become hot rows that every decision on PostgreSQL's
// several writer connections contends for; and decisions keep their
// latency whatever the reports cost. The price is a lag of one round. The
// cursor moves in the same transaction as the rows it accounts for, so a
// crash or a rival replica neither loses nor double-counts an event: a
// round that finds the position moved is abandoned (ABORTED) and run
// again.
class ReportProjector {
 public:
  using FeedReader =
      std::function<absl::StatusOr<std::vector<FeedItem>>(int64_t after, int limit)>;

  ReportProjector(AppContext& context, FeedReader read_feed, ReportProjectorOptions options = {});
  ~ReportProjector();
  ReportProjector(const ReportProjector&) = delete;
  ReportProjector& operator=(const ReportProjector&) = delete;

  // Starts the thread, woken by `feed`'s news; a failed round is told to
  // `report_failure` (the transport logs it) and retried at the next poll.
  // Once following, later calls change nothing.
  void Follow(EventFeed& feed, std::function<void(const absl::Status&)> report_failure);
  // Stops following and ends the thread; Follow may not be called again.
  void Stop();

  // One round through the feed reader: how many events it projected.
  absl::StatusOr<int> RunRound();
  // Rounds read straight from the store until the projections reach the
  // store's head as it was when called; rounds lost to a rival are run
  // again. Tests and `signoffd rebuild-reports` call it.
  absl::Status CatchUp();
  // Empties the projections and projects the whole event log again.
  absl::Status Rebuild();

 private:
  absl::StatusOr<int> Round(const FeedReader& read);

  AppContext& context_;
  FeedReader read_feed_;
  const ReportProjectorOptions options_;
  EventFeed* feed_ = nullptr;
  uint64_t subscription_ = 0;
  RoundLoop loop_;
};

// Reads the feed straight from the store.
ReportProjector::FeedReader StoreFeedReader(storage::Store& store);

}  // namespace signoff::app
