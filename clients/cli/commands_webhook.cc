// `webhook create|list|delete|deliveries|replay`: subscriptions that post
// the event feed to a URL, and their dead letters.
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::WebhookService::Stub;

struct CreateArgs {
  std::string url;
  std::string secret_file;
  std::vector<std::string> kinds;
  std::vector<std::string> definitions;
  std::string owner;
  int max_attempts = 0;
  std::string request_id;
};

struct DeliveriesArgs {
  std::string id;
  bool dead = false;
  std::vector<std::string> deliveries;
  std::string request_id;
};

std::string OrEvery(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return values.empty() ? "(every)" : absl::StrJoin(values, ",");
}

void PrintWebhooks(const google::protobuf::RepeatedPtrField<v1::Webhook>& webhooks) {
  Table table({"ID", "OWNER", "URL", "KINDS", "DEFINITIONS", "ATTEMPTS", "CREATED"});
  for (const auto& webhook : webhooks) {
    table.Add({webhook.id(), webhook.owner(), webhook.url(), OrEvery(webhook.kinds()),
               OrEvery(webhook.definition_keys()), absl::StrCat(webhook.max_attempts()),
               ShowTime(webhook.created_at(), absl::UTCTimeZone())});
  }
  table.Print();
}

void PrintDeliveries(const v1::ListDeliveriesResponse& response) {
  Table table({"ID", "CURSOR", "KIND", "STATUS", "ATTEMPTS", "NEXT", "LAST ERROR"});
  for (const auto& delivery : response.deliveries()) {
    table.Add({delivery.id(), absl::StrCat(delivery.global_seq()), delivery.kind(),
               Name(v1::DeliveryStatus_Name(delivery.status())),
               absl::StrCat(delivery.attempts()),
               ShowTime(delivery.next_attempt_at(), absl::UTCTimeZone()), delivery.last_error()});
  }
  table.Print();
}

absl::Status Create(Cli& cli, const CreateArgs& args) {
  auto secret = ReadFile(args.secret_file);
  // A file that cannot be read is the command line's mistake, as for the
  // token and TLS files.
  if (!secret.ok()) return UsageError(absl::StrCat("--secret-file: ", secret.status().message()));
  v1::CreateWebhookRequest request;
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  request.set_url(args.url);
  // A secret file usually ends with a line break that is not part of it.
  request.set_secret(std::string(absl::StripTrailingAsciiWhitespace(*secret)));
  for (const auto& kind : args.kinds) request.add_kinds(kind);
  for (const auto& key : args.definitions) request.add_definition_keys(key);
  request.set_owner(args.owner);
  request.set_max_attempts(args.max_attempts);
  return Show(cli, cli.Connect().Call(cli.Connect().webhooks(), &Stub::CreateWebhook, request),
              [](const v1::WebhookResponse& response) {
                google::protobuf::RepeatedPtrField<v1::Webhook> one;
                *one.Add() = response.webhook();
                PrintWebhooks(one);
              });
}

absl::Status List(Cli& cli) {
  return Show(cli,
              cli.Connect().Call(cli.Connect().webhooks(), &Stub::ListWebhooks,
                                 v1::ListWebhooksRequest()),
              [](const v1::ListWebhooksResponse& response) { PrintWebhooks(response.webhooks()); });
}

absl::Status Delete(Cli& cli, const DeliveriesArgs& args) {
  v1::DeleteWebhookRequest request;
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  request.set_id(args.id);
  return Show(cli, cli.Connect().Call(cli.Connect().webhooks(), &Stub::DeleteWebhook, request),
              [](const v1::WebhookResponse& response) {
                std::cout << "deleted " << response.webhook().id() << "\n";
              });
}

// Every page, newest first.
absl::Status Deliveries(Cli& cli, const DeliveriesArgs& args) {
  v1::ListDeliveriesResponse all;
  v1::ListDeliveriesRequest request;
  request.set_webhook_id(args.id);
  request.set_dead_only(args.dead);
  request.set_page_size(500);
  for (int page_number = 0; page_number < 100000; ++page_number) {
    auto page = cli.Connect().Call(cli.Connect().webhooks(), &Stub::ListDeliveries, request);
    if (!page.ok()) return page.status();
    all.mutable_deliveries()->MergeFrom(page->deliveries());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  return Show(cli, absl::StatusOr<v1::ListDeliveriesResponse>(all), PrintDeliveries);
}

absl::Status Replay(Cli& cli, const DeliveriesArgs& args) {
  v1::ReplayDeliveriesRequest request;
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  request.set_webhook_id(args.id);
  for (const auto& id : args.deliveries) request.add_delivery_ids(id);
  return Show(cli, cli.Connect().Call(cli.Connect().webhooks(), &Stub::ReplayDeliveries, request),
              [](const v1::ReplayDeliveriesResponse& response) {
                std::cout << response.replayed() << " dead letter(s) to be sent again\n";
              });
}

}  // namespace

void AddWebhookCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "webhook", "post the event feed to a service's URL, signed",
                     {"signoffctl --as risk-engine webhook create --url http://risk:8080/hooks "
                      "--secret-file secret.txt --kind instance_started",
                      "signoffctl --as grace.liu webhook deliveries wh0123 --dead"});

  auto create_args = std::make_shared<CreateArgs>();
  auto* create = Command(*noun, "create",
                         "subscribe a URL to the events (and notifications) the owner may watch; "
                         "deliveries are signed with the secret (see the README)",
                         "signoffctl --as risk-engine webhook create --url http://risk:8080/hooks "
                         "--secret-file secret.txt --definition merchant-onboarding");
  create->add_option("--url", create_args->url, "http:// URL to post to")->required();
  create->add_option("--secret-file", create_args->secret_file,
                     "file holding the HMAC secret (16 to 256 bytes)")
      ->required();
  create->add_option("--kind", create_args->kinds,
                     "an event type (e.g. task_created) or notification; repeat for several; "
                     "none for every kind");
  create->add_option("--definition", create_args->definitions,
                     "a definition key; repeat for several; none for every one the owner may "
                     "watch");
  create->add_option("--owner", create_args->owner,
                     "the service account it delivers for (administrators only)");
  create->add_option("--max-attempts", create_args->max_attempts,
                     "attempts before a delivery is a dead letter (1-20; default 8)")
      ->check(CLI::Range(0, 20));
  create->add_option("--request-id", create_args->request_id,
                     "idempotency key; repeating it is safe");
  create->callback([&cli, create_args] {
    cli.run = [&cli, create_args] { return Create(cli, *create_args); };
  });

  auto* list = Command(*noun, "list", "list subscriptions (your own; all for admins and auditors)",
                       "signoffctl --as risk-engine webhook list");
  list->callback([&cli] { cli.run = [&cli] { return List(cli); }; });

  auto delete_args = std::make_shared<DeliveriesArgs>();
  auto* remove = Command(*noun, "delete", "delete a subscription; its pending deliveries stop",
                         "signoffctl --as risk-engine webhook delete wh0123");
  remove->add_option("id", delete_args->id, "the subscription")->required();
  remove->add_option("--request-id", delete_args->request_id,
                     "idempotency key; repeating it is safe");
  remove->callback([&cli, delete_args] {
    cli.run = [&cli, delete_args] { return Delete(cli, *delete_args); };
  });

  auto list_args = std::make_shared<DeliveriesArgs>();
  auto* deliveries = Command(*noun, "deliveries", "a subscription's deliveries, newest first",
                             "signoffctl --as grace.liu webhook deliveries wh0123 --dead");
  deliveries->add_option("id", list_args->id, "the subscription")->required();
  deliveries->add_flag("--dead", list_args->dead, "only dead letters");
  deliveries->callback([&cli, list_args] {
    cli.run = [&cli, list_args] { return Deliveries(cli, *list_args); };
  });

  auto replay_args = std::make_shared<DeliveriesArgs>();
  auto* replay = Command(*noun, "replay",
                         "send dead letters again with fresh attempts (workflow administrators)",
                         "signoffctl --as grace.liu webhook replay wh0123 --delivery wh0123.42.0");
  replay->add_option("id", replay_args->id, "the subscription")->required();
  replay->add_option("--delivery", replay_args->deliveries,
                     "a dead letter to replay; repeat for several; none for every one");
  replay->add_option("--request-id", replay_args->request_id,
                     "idempotency key; repeating it is safe");
  replay->callback([&cli, replay_args] {
    cli.run = [&cli, replay_args] { return Replay(cli, *replay_args); };
  });
}

}  // namespace signoff::cli
