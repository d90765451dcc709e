#include "server/app/webhook_service.h"

#include <set>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/app/event_service.h"
#include "server/app/new_id.h"
#include "server/app/webhook_url.h"
#include "workflow/errors.h"
#include "workflow/limits.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {
namespace {

constexpr size_t kMinSecretBytes = 16;
constexpr size_t kMaxSecretBytes = 256;
constexpr int kDefaultMaxAttempts = 8;
constexpr int kMostAttempts = 20;
constexpr int kMaxDeliveryPageSize = 500;
// A replay of every dead letter reads them in pages this long.
constexpr int kDeadLetterPage = 500;

std::string NewWebhookId(absl::Time now) { return NewTimeOrderedId("wh", now); }

absl::Status NoSuchWebhook(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("webhook ", workflow::ShortForMessage(id), " not found"));
}

absl::Status RequireNamed(const char* field, const std::string& id) {
  if (!id.empty()) return absl::OkStatus();
  return workflow::InvalidArgumentWithViolations(absl::StrCat("no ", field, " given"),
                                                 {{field, "names the webhook; required"}});
}

v1::Webhook Shown(const storage::StoredWebhook& stored) { return stored.webhook; }

void AddDefinitionViolations(AppContext& context, const WatchScope& watchable,
                             const v1::CreateWebhookRequest& request,
                             std::vector<workflow::FieldViolation>& violations) {
  for (int i = 0; i < request.definition_keys_size(); ++i) {
    const std::string& key = request.definition_keys(i);
    const std::string field = absl::StrCat("definition_keys[", i, "]");
    absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> found =
        context.Definition(key, 0);
    if (!found.ok()) {
      violations.push_back({field, absl::StrCat("no definition is published under '",
                                                workflow::ShortForMessage(key), "'")});
    } else if (!watchable.Covers(key)) {
      violations.push_back({field, "the owner may not watch this definition's events"});
    }
  }
}

}  // namespace

absl::Status WebhookService::CheckMayCreateFor(const Caller& caller,
                                               const std::string& owner) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (context_.RequireAdmin(caller).ok()) return absl::OkStatus();
  const v1::User* user = context_.directory()->FindUser(caller.user);
  if (owner == caller.user && user != nullptr && user->service()) {
    // A service account that may not follow the feed has nothing to
    // subscribe to.
    return access_.WatchScopeOf(caller).status();
  }
  return absl::PermissionDeniedError(
      "webhooks are created by service accounts for themselves, and by workflow "
      "administrators for any service account");
}

std::vector<workflow::FieldViolation> WebhookService::CreateViolations(
    const v1::CreateWebhookRequest& request, const std::string& owner) {
  std::vector<workflow::FieldViolation> violations;
  if (request.url().size() > workflow::kMaxUrlBytes) {
    violations.push_back({"url", absl::StrCat("must be at most ", workflow::kMaxUrlBytes, " bytes")});
  } else if (auto url = ParseWebhookUrl(request.url()); !url.ok()) {
    violations.push_back({"url", std::string(url.status().message())});
  }
  if (request.secret().size() < kMinSecretBytes || request.secret().size() > kMaxSecretBytes) {
    violations.push_back({"secret", absl::StrCat("must be ", kMinSecretBytes, " to ",
                                                 kMaxSecretBytes, " bytes")});
  }
  if (request.max_attempts() < 0 || request.max_attempts() > kMostAttempts) {
    violations.push_back(
        {"max_attempts", absl::StrCat("must be 1 to ", kMostAttempts, ", or 0 for ",
                                      kDefaultMaxAttempts)});
  }
  for (int i = 0; i < request.kinds_size(); ++i) {
    if (StreamKinds().count(request.kinds(i)) == 0) {
      violations.push_back({absl::StrCat("kinds[", i, "]"),
                            "must be an event type (such as task_created) or notification"});
    }
  }
  absl::StatusOr<WatchScope> watchable = access_.WatchScopeOf(Caller{owner});
  if (!watchable.ok()) {
    violations.push_back({"owner", absl::StrCat("'", workflow::ShortForMessage(owner),
                                                "' may not watch events: ",
                                                watchable.status().message())});
    return violations;
  }
  AddDefinitionViolations(context_, *watchable, request, violations);
  return violations;
}

absl::StatusOr<v1::WebhookResponse> WebhookService::CreateWebhook(
    const Caller& caller, const v1::CreateWebhookRequest& request) {
  const std::string owner = request.owner().empty() ? caller.user : request.owner();
  SIGNOFF_RETURN_IF_ERROR(CheckMayCreateFor(caller, owner));
  SIGNOFF_RETURN_IF_ERROR(CheckRequestId(caller, request.request_id()));
  std::vector<workflow::FieldViolation> violations = CreateViolations(request, owner);
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations(
        absl::StrCat("the webhook has ", violations.size(), " problem(s)"), violations);
  }
  PlainChange change;
  change.method = "CreateWebhook";
  change.request = &request;
  change.request_id = request.request_id();
  change.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    SIGNOFF_ASSIGN_OR_RETURN(const int64_t head, context_.store().FeedHead());
    const absl::Time now = clock_();
    storage::StoredWebhook stored;
    v1::Webhook& webhook = stored.webhook;
    webhook.set_id(NewWebhookId(now));
    webhook.set_owner(owner);
    webhook.set_url(request.url());
    *webhook.mutable_kinds() = request.kinds();
    *webhook.mutable_definition_keys() = request.definition_keys();
    webhook.set_max_attempts(request.max_attempts() == 0 ? kDefaultMaxAttempts
                                                         : request.max_attempts());
    *webhook.mutable_created_at() = workflow::ToTimestamp(now);
    webhook.set_start_after_global_seq(head);
    stored.secret = request.secret();
    *static_cast<v1::WebhookResponse&>(out).mutable_webhook() = webhook;
    storage::Mutation mutation;
    mutation.webhooks.create = std::move(stored);
    return mutation;
  };
  v1::WebhookResponse response;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, response));
  return response;
}

bool WebhookService::SeesEverySubscription(const Caller& caller) const {
  return context_.RequireAdmin(caller).ok() ||
         context_.RequireRole(caller, workflow::kAuditorRole).ok();
}

absl::StatusOr<v1::ListWebhooksResponse> WebhookService::ListWebhooks(
    const Caller& caller, const v1::ListWebhooksRequest&) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  const std::string owner = SeesEverySubscription(caller) ? "" : caller.user;
  SIGNOFF_ASSIGN_OR_RETURN(auto webhooks, context_.store().ListWebhooks(owner));
  v1::ListWebhooksResponse response;
  for (const auto& stored : webhooks) *response.add_webhooks() = Shown(stored);
  return response;
}

absl::StatusOr<storage::StoredWebhook> WebhookService::Visible(const Caller& caller,
                                                               const std::string& id,
                                                               bool deleted_too) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  absl::StatusOr<storage::StoredWebhook> stored = context_.store().GetWebhook(id);
  if (absl::IsNotFound(stored.status())) return NoSuchWebhook(id);
  SIGNOFF_RETURN_IF_ERROR(stored.status());
  const bool sees = stored->webhook.owner() == caller.user || SeesEverySubscription(caller);
  if (!sees || (stored->deleted && !deleted_too)) return NoSuchWebhook(id);
  return stored;
}

absl::StatusOr<v1::WebhookResponse> WebhookService::DeleteWebhook(
    const Caller& caller, const v1::DeleteWebhookRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_RETURN_IF_ERROR(CheckRequestId(caller, request.request_id()));
  SIGNOFF_RETURN_IF_ERROR(RequireNamed("id", request.id()));
  PlainChange change;
  change.method = "DeleteWebhook";
  change.request = &request;
  change.request_id = request.request_id();
  change.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    SIGNOFF_ASSIGN_OR_RETURN(storage::StoredWebhook stored,
                             Visible(caller, request.id(), /*deleted_too=*/false));
    if (stored.webhook.owner() != caller.user && !context_.RequireAdmin(caller).ok()) {
      return absl::PermissionDeniedError(
          "only a webhook's owner or a workflow administrator may delete it");
    }
    *static_cast<v1::WebhookResponse&>(out).mutable_webhook() = Shown(stored);
    storage::Mutation mutation;
    mutation.webhooks.deletion = storage::WebhookDeletion{stored.webhook.id(), clock_()};
    return mutation;
  };
  v1::WebhookResponse response;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, response));
  return response;
}

absl::StatusOr<v1::ListDeliveriesResponse> WebhookService::ListDeliveries(
    const Caller& caller, const v1::ListDeliveriesRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_RETURN_IF_ERROR(RequireNamed("webhook_id", request.webhook_id()));
  if (request.page_size() < 0 || request.page_size() > kMaxDeliveryPageSize) {
    return workflow::InvalidArgumentWithViolations(
        "bad page size",
        {{"page_size", absl::StrCat("must be 1 to ", kMaxDeliveryPageSize, ", or 0 for 100")}});
  }
  SIGNOFF_ASSIGN_OR_RETURN(storage::StoredWebhook stored,
                           Visible(caller, request.webhook_id(), /*deleted_too=*/true));
  storage::DeliveryFilter filter;
  filter.webhook_id = stored.webhook.id();
  filter.dead_only = request.dead_only();
  filter.page_size = request.page_size();
  filter.page_token = request.page_token();
  absl::StatusOr<storage::Page<v1::Delivery>> page = context_.store().ListDeliveries(filter);
  if (absl::IsInvalidArgument(page.status())) {
    return workflow::InvalidArgumentWithViolations(std::string(page.status().message()),
                                                   {{"page_token", "is not from this list"}});
  }
  SIGNOFF_RETURN_IF_ERROR(page.status());
  v1::ListDeliveriesResponse response;
  for (auto& delivery : page->items) *response.add_deliveries() = std::move(delivery);
  response.set_next_page_token(page->next_page_token);
  return response;
}

absl::StatusOr<std::vector<std::string>> WebhookService::DeadLetters(
    const std::string& webhook_id) {
  std::vector<std::string> ids;
  storage::DeliveryFilter filter;
  filter.webhook_id = webhook_id;
  filter.dead_only = true;
  filter.page_size = kDeadLetterPage;
  do {
    SIGNOFF_ASSIGN_OR_RETURN(auto page, context_.store().ListDeliveries(filter));
    for (const auto& delivery : page.items) ids.push_back(delivery.id());
    filter.page_token = page.next_page_token;
  } while (!filter.page_token.empty());
  return ids;
}

absl::StatusOr<v1::ReplayDeliveriesResponse> WebhookService::ReplayDeliveries(
    const Caller& caller, const v1::ReplayDeliveriesRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.RequireAdmin(caller));
  SIGNOFF_RETURN_IF_ERROR(CheckRequestId(caller, request.request_id()));
  SIGNOFF_RETURN_IF_ERROR(RequireNamed("webhook_id", request.webhook_id()));
  PlainChange change;
  change.method = "ReplayDeliveries";
  change.request = &request;
  change.request_id = request.request_id();
  change.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    SIGNOFF_ASSIGN_OR_RETURN(storage::StoredWebhook stored,
                             Visible(caller, request.webhook_id(), /*deleted_too=*/true));
    if (stored.deleted) {
      return absl::FailedPreconditionError(
          "the webhook was deleted; its dead letters cannot be sent again");
    }
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<std::string> dead, DeadLetters(stored.webhook.id()));
    std::vector<std::string> replay = dead;
    if (request.delivery_ids_size() > 0) {
      const std::set<std::string> dead_set(dead.begin(), dead.end());
      std::vector<workflow::FieldViolation> violations;
      for (int i = 0; i < request.delivery_ids_size(); ++i) {
        if (dead_set.count(request.delivery_ids(i)) == 0) {
          violations.push_back({absl::StrCat("delivery_ids[", i, "]"),
                                "is not a dead letter of this webhook"});
        }
      }
      if (!violations.empty()) {
        return workflow::InvalidArgumentWithViolations("only dead letters can be replayed",
                                                       violations);
      }
      const std::set<std::string> named(request.delivery_ids().begin(),
                                        request.delivery_ids().end());
      replay.assign(named.begin(), named.end());
    }
    static_cast<v1::ReplayDeliveriesResponse&>(out).set_replayed(
        static_cast<int32_t>(replay.size()));
    storage::Mutation mutation;
    mutation.webhooks.replay =
        storage::DeliveryReplay{stored.webhook.id(), std::move(replay), clock_()};
    return mutation;
  };
  v1::ReplayDeliveriesResponse response;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, response));
  return response;
}

}  // namespace signoff::app
