#include "server/app/webhook_dispatcher.h"

#include "workflow/status_macros.h"

namespace signoff::app {
namespace {

// How often the position moves on while there is no subscription.
constexpr absl::Duration kIdleAdvanceEvery = absl::Seconds(5);

}  // namespace

WebhookDispatcher::WebhookDispatcher(AppContext& context, FeedReader read_feed,
                                     WebhookDispatcherOptions options)
    : context_(context),
      matcher_(context),
      read_feed_(std::move(read_feed)),
      options_(std::move(options)) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  loop_.Start([this] { return RunRound(); }, options_.poll, options_.report_failure);
}

void WebhookDispatcher::Stop() { loop_.Stop(); }

void WebhookDispatcher::Nudge() { loop_.Nudge(); }

absl::StatusOr<int> WebhookDispatcher::RunRound() {
  storage::Store& store = context_.store();
  SIGNOFF_ASSIGN_OR_RETURN(storage::WebhookDispatchPosition position,
                           store.GetWebhookDispatchPosition());
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<FeedItem> items,
                           read_feed_(position.after_global_seq, options_.page));
  if (items.empty()) return 0;
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::StoredWebhook> webhooks, store.ListWebhooks(""));
  // With no subscription nothing can match, and a new one starts after the
  // head it is created at: the position need not follow every commit, only
  // stay near enough that a first subscription meets no long backlog. This
  // keeps a commit per wake-up off the single writer.
  const absl::Time now = absl::Now();
  if (webhooks.empty() && now - last_idle_advance_ < kIdleAdvanceEvery) return 0;
  if (webhooks.empty()) last_idle_advance_ = now;
  storage::Mutation mutation;
  storage::WebhookDispatchAdvance& advance = mutation.webhooks.advance.emplace();
  advance.from = position;
  advance.to = items.back()->event.global_seq();
  SIGNOFF_ASSIGN_OR_RETURN(advance.deliveries,
                           matcher_.Match(items, webhooks, options_.clock()));
  const bool wrote_deliveries = !advance.deliveries.empty();
  SIGNOFF_RETURN_IF_ERROR(store.Commit(std::move(mutation)).status());
  if (wrote_deliveries && deliveries_written_) deliveries_written_();
  return static_cast<int>(items.size());
}

}  // namespace signoff::app
