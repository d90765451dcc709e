#include "server/app/report_projector.h"

#include <set>

#include "server/app/report_projection.h"
#include "workflow/status_macros.h"

namespace signoff::app {
ReportProjector::FeedReader StoreFeedReader(storage::Store& store) {
  return [&store](int64_t after, int limit) -> absl::StatusOr<std::vector<FeedItem>> {
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::FeedRecord> records,
                             store.ListFeedSince(after, limit));
    std::vector<FeedItem> items;
    items.reserve(records.size());
    for (storage::FeedRecord& record : records) {
      items.push_back(std::make_shared<const storage::FeedRecord>(std::move(record)));
    }
    return items;
  };
}

ReportProjector::ReportProjector(AppContext& context, FeedReader read_feed,
                                 ReportProjectorOptions options)
    : context_(context), read_feed_(std::move(read_feed)), options_(std::move(options)) {}

ReportProjector::~ReportProjector() { Stop(); }

void ReportProjector::Follow(EventFeed& feed,
                             std::function<void(const absl::Status&)> report_failure) {
  // The projector is the application's: a second server over the same
  // application finds it following already.
  if (feed_ != nullptr) return;
  feed_ = &feed;
  subscription_ = feed.Subscribe({[this] { loop_.Nudge(); }, [](absl::Time) {}, [] {}});
  loop_.Start([this] { return RunRound(); }, options_.poll, std::move(report_failure));
}

void ReportProjector::Stop() {
  if (feed_ != nullptr) feed_->Unsubscribe(subscription_);
  feed_ = nullptr;
  loop_.Stop();
}

absl::StatusOr<int> ReportProjector::RunRound() { return Round(read_feed_); }

absl::StatusOr<int> ReportProjector::Round(const FeedReader& read) {
  storage::Store& store = context_.store();
  SIGNOFF_ASSIGN_OR_RETURN(const int64_t position, store.GetReportPosition());
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<FeedItem> items, read(position, options_.page));
  if (items.empty()) return 0;
  std::set<std::string> instance_ids;
  for (const FeedItem& item : items) instance_ids.insert(item->event.instance_id());
  SIGNOFF_ASSIGN_OR_RETURN(
      storage::ReportFacts facts,
      store.LoadReportFacts(std::vector<std::string>(instance_ids.begin(), instance_ids.end())));
  ReportProjection projection(context_, std::move(facts));
  for (const FeedItem& item : items) SIGNOFF_RETURN_IF_ERROR(projection.Apply(*item));
  storage::Mutation mutation;
  mutation.reports = projection.TakeWrites();
  mutation.reports.advance = storage::ReportAdvance{position, items.back()->event.global_seq()};
  SIGNOFF_RETURN_IF_ERROR(store.Commit(std::move(mutation)).status());
  return static_cast<int>(items.size());
}

absl::Status ReportProjector::CatchUp() {
  storage::Store& store = context_.store();
  SIGNOFF_ASSIGN_OR_RETURN(const int64_t head, store.FeedHead());
  const FeedReader from_store = StoreFeedReader(store);
  for (;;) {
    SIGNOFF_ASSIGN_OR_RETURN(const int64_t position, store.GetReportPosition());
    if (position >= head) return absl::OkStatus();
    absl::StatusOr<int> projected = Round(from_store);
    if (!projected.ok() && !absl::IsAborted(projected.status())) return projected.status();
  }
}

absl::Status ReportProjector::Rebuild() {
  storage::Mutation reset;
  reset.reports.reset = true;
  SIGNOFF_RETURN_IF_ERROR(context_.store().Commit(std::move(reset)).status());
  return CatchUp();
}

}  // namespace signoff::app
