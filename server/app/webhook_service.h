#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "server/app/access_control.h"
#include "signoff/v1/webhooks.pb.h"

namespace signoff::app {

// WebhookService: subscriptions that post the event feed to a URL.
//
// Who may do what: a service account creates, lists and deletes its own
// subscriptions, and reads their deliveries; workflow administrators do
// all of that for any account and replay dead letters; auditors list and
// read every subscription. A subscription the caller may not see is
// NOT_FOUND, worded as a missing one.
class WebhookService {
 public:
  // `clock` schedules deliveries (replays): wall time, as the sender's.
  WebhookService(AppContext& context, CommandPipeline& pipeline, Clock clock)
      : context_(context), pipeline_(pipeline), access_(context), clock_(std::move(clock)) {}

  absl::StatusOr<v1::WebhookResponse> CreateWebhook(const Caller& caller,
                                                    const v1::CreateWebhookRequest& request);
  absl::StatusOr<v1::ListWebhooksResponse> ListWebhooks(const Caller& caller,
                                                        const v1::ListWebhooksRequest& request);
  absl::StatusOr<v1::WebhookResponse> DeleteWebhook(const Caller& caller,
                                                    const v1::DeleteWebhookRequest& request);
  absl::StatusOr<v1::ListDeliveriesResponse> ListDeliveries(
      const Caller& caller, const v1::ListDeliveriesRequest& request);
  absl::StatusOr<v1::ReplayDeliveriesResponse> ReplayDeliveries(
      const Caller& caller, const v1::ReplayDeliveriesRequest& request);

 private:
  // PERMISSION_DENIED unless the caller may create a subscription for
  // `owner`: its own as a service account, anyone's as an administrator.
  absl::Status CheckMayCreateFor(const Caller& caller, const std::string& owner);
  // One violation per bad field of a create request.
  std::vector<workflow::FieldViolation> CreateViolations(const v1::CreateWebhookRequest& request,
                                                         const std::string& owner);
  // The subscription, if the caller may see it (its owner, administrators,
  // auditors); NOT_FOUND otherwise, and for a deleted one unless
  // `deleted_too`.
  absl::StatusOr<storage::StoredWebhook> Visible(const Caller& caller, const std::string& id,
                                                 bool deleted_too);
  bool SeesEverySubscription(const Caller& caller) const;
  // Every dead letter's id of a subscription.
  absl::StatusOr<std::vector<std::string>> DeadLetters(const std::string& webhook_id);

  AppContext& context_;
  CommandPipeline& pipeline_;
  AccessControl access_;
  Clock clock_;
};

}  // namespace signoff::app
