// Webhook subscriptions end to end: a receiver on loopback checks every
// delivery's signature, fails, hangs and recovers; filters, visibility,
// redaction, restarts, dead letters and replay, and who may do what.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "server/app/webhook_dispatcher.h"
#include "server/app/webhook_sender.h"
#include "server/app/webhook_signature.h"
#include "server/webhook_http_transport.h"
#include "server_fixture.h"
#include "signoff/v1/webhooks.grpc.pb.h"
#include "status_matchers.h"

namespace signoff::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using WS = v1::WebhookService::Stub;

constexpr char kSecret[] = "a-receiver-secret-of-some-length";

// A memo's salary is confidential: watchers that do not read the instance
// in full get its events without it.
constexpr char kMemoDefinition[] = R"(
key: memo
name: Memo
form:
  fields:
    - {name: employee, type: USER, required: true}
    - {name: salary, type: NUMBER, confidential: true}
subject: {field: employee, type: employee}
steps:
  - id: review
    approval: {approvers: [{user: hana}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

// An HTTP server on loopback that answers deliveries as scripted: each
// request takes the next answer (then 200), and is kept with whether its
// signature verified with the receiver's secret.
class Receiver {
 public:
  enum class Answer { kOk, kFail, kHang };
  struct Request {
    absl::Time at;
    std::string webhook_id;
    std::string delivery_id;
    std::string signature;
    std::string body;
    bool signature_ok = false;
  };

  explicit Receiver(std::string secret) : secret_(std::move(secret)), acceptor_(io_) {
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    acceptor_.non_blocking(true);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stopping_ = true;
    thread_.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hooks?x=1"); }
  void Script(std::vector<Answer> answers) {
    std::lock_guard<std::mutex> lock(mutex_);
    script_.assign(answers.begin(), answers.end());
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  // Waits (real time) until at least `count` requests came.
  bool WaitFor(size_t count, absl::Duration timeout = absl::Seconds(20)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                             [&] { return requests_.size() >= count; });
  }

 private:
  void Serve() {
    std::vector<tcp::socket> hung;
    while (!stopping_) {
      tcp::socket socket(io_);
      beast::error_code error;
      acceptor_.accept(socket, error);
      if (error == net::error::would_block || error == net::error::try_again) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      if (error) continue;
      socket.non_blocking(false);
      Handle(std::move(socket), hung);
    }
  }

  void Handle(tcp::socket socket, std::vector<tcp::socket>& hung) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    beast::error_code error;
    http::read(socket, buffer, request, error);
    if (error) return;
    Request kept;
    kept.at = absl::Now();
    kept.webhook_id = std::string(request["Signoff-Webhook-Id"]);
    kept.delivery_id = std::string(request["Signoff-Delivery-Id"]);
    kept.signature = std::string(request["Signoff-Signature"]);
    kept.body = request.body();
    kept.signature_ok = app::VerifyWebhookSignature(secret_, kept.signature, kept.body,
                                                    absl::Now(), absl::Minutes(5))
                            .ok();
    Answer answer = Answer::kOk;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
      }
      requests_.push_back(kept);
    }
    arrived_.notify_all();
    if (answer == Answer::kHang) {
      hung.push_back(std::move(socket));
      return;
    }
    http::status status = !kept.signature_ok          ? http::status::unauthorized
                          : answer == Answer::kFail ? http::status::internal_server_error
                                                    : http::status::no_content;
    http::response<http::empty_body> response{status, 11};
    response.prepare_payload();
    http::write(socket, response, error);
  }

  const std::string secret_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<Answer> script_;
  std::vector<Request> requests_;
};

v1::WatchEventsResponse ItemOf(const Receiver::Request& request) {
  v1::WatchEventsResponse item;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(request.body, &item).ok())
      << request.body;
  return item;
}

class WebhookTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kMemoDefinition, "publish-memo"));
    ASSERT_OK(client_->UpsertUsers(
        "ceo",
        "[{id: scoped, department: root, service: true,"
        " roles: [{role: watch-events, definitions: [leave]}]}]",
        "add-scoped"));
  }

  void ConfigureServer(server::ServerOptions& options) override {
    options.webhooks.concurrency = webhook_concurrency_;
    options.webhooks.backoff_base = absl::Milliseconds(100);
    options.webhooks.timeout = absl::Milliseconds(500);
    options.webhooks.poll = absl::Milliseconds(20);
  }

  std::unique_ptr<WS> Hooks() { return v1::WebhookService::NewStub(server_->InProcessChannel()); }

  absl::StatusOr<v1::Webhook> Create(const std::string& user, const std::string& url,
                                     std::vector<std::string> kinds,
                                     std::vector<std::string> definitions,
                                     const std::string& owner = "", int max_attempts = 0,
                                     const std::string& secret = kSecret) {
    v1::CreateWebhookRequest request;
    request.set_request_id(NextId("create"));
    request.set_url(url);
    for (auto& kind : kinds) request.add_kinds(kind);
    for (auto& key : definitions) request.add_definition_keys(key);
    request.set_owner(owner);
    request.set_max_attempts(max_attempts);
    request.set_secret(secret);
    auto response = client_->Call(user, *Hooks(), &WS::CreateWebhook, request);
    if (!response.ok()) return response.status();
    return response->webhook();
  }

  absl::StatusOr<v1::ListDeliveriesResponse> Deliveries(const std::string& user,
                                                        const std::string& id,
                                                        bool dead_only = false) {
    v1::ListDeliveriesRequest request;
    request.set_webhook_id(id);
    request.set_dead_only(dead_only);
    return client_->Call(user, *Hooks(), &WS::ListDeliveries, request);
  }

  absl::StatusOr<v1::ReplayDeliveriesResponse> Replay(const std::string& user,
                                                      const std::string& id,
                                                      std::vector<std::string> deliveries = {}) {
    v1::ReplayDeliveriesRequest request;
    request.set_request_id(NextId("replay"));
    request.set_webhook_id(id);
    for (auto& delivery : deliveries) request.add_delivery_ids(delivery);
    return client_->Call(user, *Hooks(), &WS::ReplayDeliveries, request);
  }

  absl::StatusOr<v1::WebhookResponse> Delete(const std::string& user, const std::string& id,
                                             const std::string& request_id = "") {
    v1::DeleteWebhookRequest request;
    request.set_request_id(request_id.empty() ? NextId("delete") : request_id);
    request.set_id(id);
    return client_->Call(user, *Hooks(), &WS::DeleteWebhook, request);
  }

  std::vector<std::string> ListedIds(const std::string& user) {
    auto listed = client_->Call(user, *Hooks(), &WS::ListWebhooks, v1::ListWebhooksRequest());
    EXPECT_OK(listed);
    std::vector<std::string> ids;
    if (listed.ok()) {
      for (const auto& webhook : listed->webhooks()) ids.push_back(webhook.id());
    }
    return ids;
  }

  // Leave is one open instance per employee.
  std::string StartLeave(const std::string& employee = "ann") {
    auto started = client_->Start(employee, "leave", absl::StrCat("{employee: ", employee,
                                                                  ", days: 2}"),
                                  NextId("leave"));
    EXPECT_OK(started);
    return started.ok() ? started->id() : "";
  }

  std::string StartMemo() {
    auto started =
        client_->Start("ann", "memo", "{employee: ann, salary: 4200}", NextId("memo"));
    EXPECT_OK(started);
    return started.ok() ? started->id() : "";
  }

  // Waits (real time) until the subscription's deliveries satisfy `done`.
  bool WaitForDeliveries(const std::string& id,
                         const std::function<bool(const v1::ListDeliveriesResponse&)>& done) {
    for (int i = 0; i < 1000; ++i) {
      auto listed = Deliveries("ceo", id);
      if (listed.ok() && done(*listed)) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string NextId(const std::string& prefix) { return absl::StrCat(prefix, "-", ++ids_); }

  int webhook_concurrency_ = 4;
  int ids_ = 0;
};

bool AllDelivered(const v1::ListDeliveriesResponse& listed, int count) {
  if (listed.deliveries_size() != count) return false;
  for (const auto& delivery : listed.deliveries()) {
    if (delivery.status() != v1::DELIVERY_DELIVERED) return false;
  }
  return true;
}

TEST(WebhookSignatureTest, ARecomputedHmacAcceptsTheBodyAndRefusesATamperedOne) {
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  const std::string body = R"({"cursor":"7"})";
  const std::string header = app::WebhookSignature(kSecret, 1767225600, body);
  EXPECT_THAT(header, ::testing::StartsWith("t=1767225600,v1="));
  EXPECT_EQ(header.size(), std::string("t=1767225600,v1=").size() + 64);
  EXPECT_OK(app::VerifyWebhookSignature(kSecret, header, body, now, absl::Minutes(5)));
  EXPECT_TRUE(absl::IsUnauthenticated(app::VerifyWebhookSignature(
      kSecret, header, R"({"cursor":"8"})", now, absl::Minutes(5))));
  EXPECT_TRUE(absl::IsUnauthenticated(app::VerifyWebhookSignature(
      "another-secret-entirely", header, body, now, absl::Minutes(5))));
  EXPECT_TRUE(absl::IsUnauthenticated(app::VerifyWebhookSignature(
      kSecret, header, body, now + absl::Minutes(6), absl::Minutes(5))));
  EXPECT_TRUE(absl::IsUnauthenticated(
      app::VerifyWebhookSignature(kSecret, "v1=abc", body, now, absl::Minutes(5))));
}

TEST(WebhookBackoffTest, DoublesFromTheBaseUpToTheCap) {
  const absl::Duration base = absl::Seconds(1), cap = absl::Minutes(5);
  EXPECT_EQ(app::WebhookBackoff(1, base, cap), absl::Seconds(1));
  EXPECT_EQ(app::WebhookBackoff(2, base, cap), absl::Seconds(2));
  EXPECT_EQ(app::WebhookBackoff(4, base, cap), absl::Seconds(8));
  EXPECT_EQ(app::WebhookBackoff(9, base, cap), absl::Seconds(256));
  EXPECT_EQ(app::WebhookBackoff(10, base, cap), absl::Minutes(5));
  EXPECT_EQ(app::WebhookBackoff(60, base, cap), absl::Minutes(5));
}

TEST_F(WebhookTest, SignedDeliveriesReachTheReceiverInFeedOrder) {
  Receiver receiver(kSecret);
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook, Create("watcher", receiver.url(), {}, {"leave"}));
  EXPECT_EQ(webhook.owner(), "watcher");
  EXPECT_EQ(webhook.max_attempts(), 8);
  const std::string id = StartLeave();
  ASSERT_OK_AND_ASSIGN(auto events, store_->ListEvents(id));
  ASSERT_TRUE(receiver.WaitFor(events.size()));
  absl::SleepFor(absl::Milliseconds(200));
  std::vector<Receiver::Request> requests = receiver.requests();
  ASSERT_EQ(requests.size(), events.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_TRUE(requests[i].signature_ok) << requests[i].signature;
    EXPECT_EQ(requests[i].webhook_id, webhook.id());
    v1::WatchEventsResponse item = ItemOf(requests[i]);
    EXPECT_EQ(item.event().event().global_seq(), events[i].global_seq());
    EXPECT_EQ(item.cursor(), events[i].global_seq());
    EXPECT_EQ(item.event().definition_key(), "leave");
    EXPECT_EQ(requests[i].delivery_id, absl::StrCat(webhook.id(), ".", events[i].global_seq()));
  }
  ASSERT_TRUE(WaitForDeliveries(webhook.id(), [&](const auto& listed) {
    return AllDelivered(listed, static_cast<int>(events.size()));
  }));
}

TEST_F(WebhookTest, AReceiverWithAnotherSecretRefusesEveryDeliveryAndItEndsDead) {
  Receiver receiver("the-receiver-knows-another-secret");
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook,
                       Create("watcher", receiver.url(), {"instance_started"}, {}, "", 2));
  StartLeave();
  ASSERT_TRUE(WaitForDeliveries(webhook.id(), [](const auto& listed) {
    return listed.deliveries_size() == 1 && listed.deliveries(0).status() == v1::DELIVERY_DEAD;
  }));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_FALSE(requests[0].signature_ok);
  ASSERT_OK_AND_ASSIGN(auto dead, Deliveries("watcher", webhook.id(), true));
  ASSERT_EQ(dead.deliveries_size(), 1);
  EXPECT_THAT(dead.deliveries(0).last_error(), ::testing::HasSubstr("401"));
}

TEST_F(WebhookTest, FailedAttemptsAreRetriedWithGrowingWaitsUntilTheReceiverRecovers) {
  Receiver receiver(kSecret);
  receiver.Script({Receiver::Answer::kFail, Receiver::Answer::kFail, Receiver::Answer::kFail});
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook,
                       Create("watcher", receiver.url(), {"instance_started"}, {}, "", 5));
  StartLeave();
  ASSERT_TRUE(receiver.WaitFor(4));
  auto requests = receiver.requests();
  for (const auto& request : requests) {
    EXPECT_EQ(request.delivery_id, requests[0].delivery_id);
    EXPECT_TRUE(request.signature_ok);
  }
  const absl::Duration first = requests[1].at - requests[0].at;
  const absl::Duration second = requests[2].at - requests[1].at;
  const absl::Duration third = requests[3].at - requests[2].at;
  EXPECT_GE(first, absl::Milliseconds(100));
  EXPECT_GE(second, absl::Milliseconds(200));
  EXPECT_GE(third, absl::Milliseconds(400));
  EXPECT_GT(third, second);
  EXPECT_GT(second, first);
  ASSERT_TRUE(WaitForDeliveries(webhook.id(), [](const auto& listed) {
    return AllDelivered(listed, 1) && listed.deliveries(0).attempts() == 4;
  }));
}

TEST_F(WebhookTest, AReceiverThatDoesNotAnswerTimesOutAndIsTriedAgain) {
  Receiver receiver(kSecret);
  receiver.Script({Receiver::Answer::kHang});
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook,
                       Create("watcher", receiver.url(), {"instance_started"}, {}));
  StartLeave();
  ASSERT_TRUE(receiver.WaitFor(2));
  auto requests = receiver.requests();
  EXPECT_EQ(requests[1].delivery_id, requests[0].delivery_id);
  // The timeout, then the first backoff.
  EXPECT_GE(requests[1].at - requests[0].at, absl::Milliseconds(600));
  ASSERT_TRUE(WaitForDeliveries(webhook.id(), [](const auto& listed) {
    return AllDelivered(listed, 1) && listed.deliveries(0).attempts() == 2;
  }));
}

TEST_F(WebhookTest, ADeliveryThatKeepsFailingDiesAfterMaxAttemptsAndAReplayDeliversIt) {
  Receiver receiver(kSecret);
  receiver.Script({Receiver::Answer::kFail, Receiver::Answer::kFail, Receiver::Answer::kFail,
                   Receiver::Answer::kFail});
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook,
                       Create("watcher", receiver.url(), {"instance_started"}, {}, "", 3));
  StartLeave();
  ASSERT_TRUE(WaitForDeliveries(webhook.id(), [](const auto& listed) {
    return listed.deliveries_size() == 1 && listed.deliveries(0).status() == v1::DELIVERY_DEAD;
  }));
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_EQ(receiver.requests().size(), 3u) << "exactly max_attempts";
  ASSERT_OK_AND_ASSIGN(auto dead, Deliveries("ceo", webhook.id(), true));
  ASSERT_EQ(dead.deliveries_size(), 1);
  EXPECT_EQ(dead.deliveries(0).attempts(), 3);
  EXPECT_THAT(dead.deliveries(0).last_error(), ::testing::HasSubstr("500"));

  receiver.Script({});
  ASSERT_OK_AND_ASSIGN(auto replayed, Replay("ceo", webhook.id()));
  EXPECT_EQ(replayed.replayed(), 1);
  ASSERT_TRUE(receiver.WaitFor(4));
  ASSERT_TRUE(WaitForDeliveries(webhook.id(), [](const auto& listed) {
    return AllDelivered(listed, 1) && listed.deliveries(0).attempts() == 1;
  }));
  ASSERT_OK_AND_ASSIGN(dead, Deliveries("ceo", webhook.id(), true));
  EXPECT_EQ(dead.deliveries_size(), 0);
  // A delivered letter is not dead: naming it is refused.
  ASSERT_OK_AND_ASSIGN(auto delivered, Deliveries("ceo", webhook.id()));
  auto again = Replay("ceo", webhook.id(), {delivered.deliveries(0).id()});
  EXPECT_TRUE(absl::IsInvalidArgument(again.status())) << again.status();
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("delivery_ids[0]"));
}

TEST_F(WebhookTest, KindAndDefinitionFiltersAndTheOwnersWatchScopeDecideWhatIsSent) {
  Receiver by_kind(kSecret), by_definition(kSecret), scoped(kSecret);
  ASSERT_OK(Create("watcher", by_kind.url(), {"task_created"}, {}));
  ASSERT_OK(Create("watcher", by_definition.url(), {}, {"memo"}));
  // `scoped` may watch leave only: memo's events never reach it.
  ASSERT_OK(Create("scoped", scoped.url(), {}, {}));
  const std::string leave = StartLeave();
  const std::string memo = StartMemo();
  ASSERT_OK_AND_ASSIGN(auto leave_events, store_->ListEvents(leave));
  ASSERT_OK_AND_ASSIGN(auto memo_events, store_->ListEvents(memo));
  ASSERT_TRUE(by_kind.WaitFor(2));
  ASSERT_TRUE(by_definition.WaitFor(memo_events.size()));
  ASSERT_TRUE(scoped.WaitFor(leave_events.size()));
  absl::SleepFor(absl::Milliseconds(300));

  std::set<std::string> kinds;
  for (const auto& request : by_kind.requests()) kinds.insert(ItemOf(request).event().event().type());
  EXPECT_THAT(kinds, ElementsAre("task_created"));
  EXPECT_EQ(by_kind.requests().size(), 2u) << "one task in each instance";
  std::set<std::string> definitions;
  for (const auto& request : by_definition.requests()) {
    definitions.insert(ItemOf(request).event().definition_key());
  }
  EXPECT_THAT(definitions, ElementsAre("memo"));
  std::set<std::string> instances;
  for (const auto& request : scoped.requests()) {
    instances.insert(ItemOf(request).event().event().instance_id());
  }
  EXPECT_THAT(instances, ElementsAre(leave));
  EXPECT_EQ(scoped.requests().size(), leave_events.size());
}

TEST_F(WebhookTest, ConfidentialFieldsAreLeftOutForOwnersWhoDoNotReadTheInstance) {
  Receiver watcher(kSecret), auditor(kSecret);
  ASSERT_OK(Create("watcher", watcher.url(), {"instance_started"}, {"memo"}));
  ASSERT_OK(Create("ceo", auditor.url(), {"instance_started"}, {"memo"}, "aud"));
  StartMemo();
  ASSERT_TRUE(watcher.WaitFor(1));
  ASSERT_TRUE(auditor.WaitFor(1));
  v1::WatchEventsResponse redacted = ItemOf(watcher.requests()[0]);
  EXPECT_THAT(redacted.event().redacted_fields(), ElementsAre("salary"));
  const auto& form = redacted.event().event().instance_started().form().fields();
  EXPECT_EQ(form.count("salary"), 0u);
  EXPECT_EQ(form.count("employee"), 1u);
  v1::WatchEventsResponse full = ItemOf(auditor.requests()[0]);
  EXPECT_THAT(full.event().redacted_fields(), IsEmpty());
  EXPECT_EQ(full.event().event().instance_started().form().fields().at("salary").number_value(),
            4200);
}

TEST_F(WebhookTest, ARestartResumesFromTheStoredPositionWithoutLossOrRepeats) {
  Receiver receiver(kSecret);
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook, Create("watcher", receiver.url(), {}, {}));
  StartLeave("ann");
  // Events committed while no process delivers webhooks are sent after.
  webhook_concurrency_ = 0;
  Restart();
  StartLeave("bo");
  webhook_concurrency_ = 4;
  Restart();
  StartLeave("mia");
  ASSERT_OK_AND_ASSIGN(auto all, store_->ListEventsSince(webhook.start_after_global_seq(), 1000));
  ASSERT_TRUE(receiver.WaitFor(all.size()));
  absl::SleepFor(absl::Milliseconds(400));
  std::vector<int64_t> received, expected;
  std::set<std::string> delivery_ids;
  for (const auto& request : receiver.requests()) {
    received.push_back(ItemOf(request).cursor());
    delivery_ids.insert(request.delivery_id);
  }
  for (const auto& event : all) expected.push_back(event.global_seq());
  std::sort(received.begin(), received.end());
  EXPECT_EQ(received, expected);
  EXPECT_EQ(delivery_ids.size(), receiver.requests().size());
}

// With no subscription the dispatcher does not commit after every wake-up;
// a subscription made afterwards still gets what commits after it.
TEST_F(WebhookTest, WithNoSubscriptionThePositionMovesOnlyNowAndThen) {
  webhook_concurrency_ = 0;
  Restart();
  auto read = [this](int64_t after, int limit) { return app_->feed().Read(after, limit); };
  app::WebhookDispatcher dispatcher(app_->context(), read, app::WebhookDispatcherOptions());
  // The feed reads commits on its own thread: a round run right after a
  // commit waits until the feed has it, as the dispatcher's wake-up would.
  auto feed_caught_up = [this] {
    auto head = store_->FeedHead();
    ASSERT_OK(head);
    ASSERT_GE(app_->feed().WaitBeyond(*head - 1, absl::Seconds(10)), *head);
  };
  StartLeave("ann");
  feed_caught_up();
  ASSERT_OK_AND_ASSIGN(int first, dispatcher.RunRound());
  EXPECT_GT(first, 0) << "the first idle round moves the position to the head";
  ASSERT_OK_AND_ASSIGN(auto moved, store_->GetWebhookDispatchPosition());
  StartLeave("bo");
  feed_caught_up();
  ASSERT_OK_AND_ASSIGN(int second, dispatcher.RunRound());
  EXPECT_EQ(second, 0);
  ASSERT_OK_AND_ASSIGN(auto kept, store_->GetWebhookDispatchPosition());
  EXPECT_EQ(kept.after_global_seq, moved.after_global_seq);
  EXPECT_EQ(kept.generation, moved.generation);

  Receiver receiver(kSecret);
  ASSERT_OK_AND_ASSIGN(v1::Webhook webhook, Create("watcher", receiver.url(), {}, {}));
  const std::string later = StartLeave("mia");
  feed_caught_up();
  ASSERT_OK_AND_ASSIGN(int matched, dispatcher.RunRound());
  EXPECT_GT(matched, 0);
  ASSERT_OK_AND_ASSIGN(auto deliveries, Deliveries("watcher", webhook.id()));
  ASSERT_OK_AND_ASSIGN(auto events, store_->ListEvents(later));
  // Only what committed after the subscription: bo's start is not sent.
  ASSERT_EQ(deliveries.deliveries_size(), static_cast<int>(events.size()));
  for (const auto& delivery : deliveries.deliveries()) {
    EXPECT_GT(delivery.global_seq(), webhook.start_after_global_seq());
  }
}

TEST_F(WebhookTest, NotificationsAreDeliveredToSubscriptionsThatAskForThem) {
  webhook_concurrency_ = 0;
  Restart();
  Receiver receiver(kSecret);
  ASSERT_OK_AND_ASSIGN(v1::Webhook notes, Create("watcher", receiver.url(), {"notification"}, {}));
  ASSERT_OK_AND_ASSIGN(v1::Webhook events, Create("watcher", receiver.url(), {"task_created"}, {}));
  ASSERT_OK_AND_ASSIGN(v1::Webhook memos,
                       Create("watcher", receiver.url(), {"notification"}, {"memo"}));
  // A feed item with two notifications, as the event feed hands it over.
  const std::string leave = StartLeave();
  ASSERT_OK_AND_ASSIGN(auto stored, store_->ListEvents(leave));
  auto record = std::make_shared<storage::FeedRecord>();
  for (const auto& event : stored) {
    if (event.type() == "task_created") record->event = event;
  }
  ASSERT_EQ(record->event.type(), "task_created");
  record->definition_key = "leave";
  record->definition_version = 1;
  for (const std::string recipient : {"mia", "ann"}) {
    v1::Notification& notification = record->notifications.emplace_back();
    notification.set_recipient(recipient);
    notification.set_kind(v1::TASK_ASSIGNED);
    notification.set_instance_id(leave);
    notification.set_global_seq(record->event.global_seq());
  }
  app::WebhookDispatcher dispatcher(
      app_->context(),
      [&](int64_t after, int) -> absl::StatusOr<std::vector<app::FeedItem>> {
        if (after >= record->event.global_seq()) return std::vector<app::FeedItem>{};
        return std::vector<app::FeedItem>{record};
      },
      app::WebhookDispatcherOptions());
  ASSERT_OK_AND_ASSIGN(int matched, dispatcher.RunRound());
  EXPECT_EQ(matched, 1);
  ASSERT_OK_AND_ASSIGN(int again, dispatcher.RunRound());
  EXPECT_EQ(again, 0) << "the position moved past the item";

  // One delivery per event: its notifications ride in its item.
  ASSERT_OK_AND_ASSIGN(auto note_deliveries, Deliveries("watcher", notes.id()));
  ASSERT_EQ(note_deliveries.deliveries_size(), 1);
  EXPECT_EQ(note_deliveries.deliveries(0).kind(), "notification");
  ASSERT_OK_AND_ASSIGN(auto event_deliveries, Deliveries("watcher", events.id()));
  ASSERT_EQ(event_deliveries.deliveries_size(), 1);
  EXPECT_EQ(event_deliveries.deliveries(0).kind(), "task_created");
  // What the receivers get, once the sender posts the outbox.
  app::WebhookSenderOptions sending;
  sending.poll = absl::Milliseconds(10);
  server::BeastWebhookTransport transport;
  app::WebhookSender sender(*store_, transport, sending);
  sender.Start();
  ASSERT_TRUE(receiver.WaitFor(2));
  sender.Stop();
  std::map<std::string, v1::WatchEventsResponse> by_webhook;
  for (const auto& request : receiver.requests()) by_webhook[request.webhook_id] = ItemOf(request);
  const v1::WatchEventsResponse& noted = by_webhook[notes.id()];
  EXPECT_FALSE(noted.has_event());
  ASSERT_EQ(noted.notifications_size(), 2);
  EXPECT_EQ(noted.notifications(0).recipient(), "mia");
  EXPECT_EQ(noted.notifications(1).recipient(), "ann");
  EXPECT_EQ(noted.cursor(), record->event.global_seq());
  const v1::WatchEventsResponse& evented = by_webhook[events.id()];
  EXPECT_EQ(evented.event().event().type(), "task_created");
  EXPECT_EQ(evented.notifications_size(), 0);
  ASSERT_OK_AND_ASSIGN(auto memo_deliveries, Deliveries("watcher", memos.id()));
  EXPECT_EQ(memo_deliveries.deliveries_size(), 0);
}

TEST_F(WebhookTest, WhoMayCreateListAndDeleteSubscriptions) {
  const std::string url = "http://127.0.0.1:9/x";
  EXPECT_TRUE(absl::IsPermissionDenied(Create("svc", url, {}, {}).status()))
      << "a service account without the watch permission";
  EXPECT_TRUE(absl::IsPermissionDenied(Create("ann", url, {}, {}).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(Create("aud", url, {}, {}, "watcher").status()));
  EXPECT_TRUE(absl::IsPermissionDenied(Create("watcher", url, {}, {}, "scoped").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(Create("gone", url, {}, {}).status()));
  auto for_ann = Create("ceo", url, {}, {}, "ann");
  EXPECT_TRUE(absl::IsInvalidArgument(for_ann.status())) << for_ann.status();
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("owner"));
  auto outside_scope = Create("scoped", url, {}, {"memo"});
  EXPECT_TRUE(absl::IsInvalidArgument(outside_scope.status())) << outside_scope.status();
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition_keys[0]"));

  ASSERT_OK_AND_ASSIGN(v1::Webhook own, Create("watcher", url, {}, {}));
  ASSERT_OK_AND_ASSIGN(v1::Webhook by_admin, Create("ceo", url, {}, {}, "scoped"));
  EXPECT_EQ(by_admin.owner(), "scoped");
  EXPECT_THAT(ListedIds("watcher"), ElementsAre(own.id()));
  EXPECT_THAT(ListedIds("scoped"), ElementsAre(by_admin.id()));
  EXPECT_THAT(ListedIds("ceo"), UnorderedElementsAre(own.id(), by_admin.id()));
  EXPECT_THAT(ListedIds("aud"), UnorderedElementsAre(own.id(), by_admin.id()));
  EXPECT_THAT(ListedIds("ann"), IsEmpty());

  // Someone else's subscription reads as a missing one...
  auto hidden = Delete("ann", own.id());
  EXPECT_TRUE(absl::IsNotFound(hidden.status()));
  EXPECT_EQ(hidden.status().message(), absl::StrCat("webhook ", own.id(), " not found"));
  EXPECT_EQ(Delete("ann", "wh-none").status().message(), "webhook wh-none not found");
  EXPECT_TRUE(absl::IsNotFound(Delete("scoped", own.id()).status()));
  EXPECT_TRUE(absl::IsNotFound(Deliveries("scoped", own.id()).status()));
  EXPECT_TRUE(absl::IsNotFound(Deliveries("ann", own.id()).status()));
  // ...but an auditor, who sees it, may not delete it.
  EXPECT_TRUE(absl::IsPermissionDenied(Delete("aud", own.id()).status()));
  EXPECT_OK(Deliveries("aud", own.id()));
  EXPECT_OK(Deliveries("watcher", own.id()));

  // Only workflow administrators replay, and only what exists.
  EXPECT_TRUE(absl::IsPermissionDenied(Replay("watcher", own.id()).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(Replay("aud", own.id()).status()));
  EXPECT_TRUE(absl::IsNotFound(Replay("ceo", "wh-none").status()));
  ASSERT_OK_AND_ASSIGN(auto nothing, Replay("ceo", own.id()));
  EXPECT_EQ(nothing.replayed(), 0);

  ASSERT_OK_AND_ASSIGN(auto deleted, Delete("watcher", own.id(), "delete-own"));
  EXPECT_EQ(deleted.webhook().id(), own.id());
  ASSERT_OK_AND_ASSIGN(auto repeated, Delete("watcher", own.id(), "delete-own"));
  EXPECT_EQ(repeated.webhook().id(), own.id()) << "a repeat returns the first reply";
  EXPECT_TRUE(absl::IsNotFound(Delete("watcher", own.id()).status()));
  EXPECT_THAT(ListedIds("ceo"), ElementsAre(by_admin.id()));
  EXPECT_TRUE(absl::IsFailedPrecondition(Replay("ceo", own.id()).status()));
  ASSERT_OK(Delete("ceo", by_admin.id()));
  EXPECT_THAT(ListedIds("ceo"), IsEmpty());
}

TEST_F(WebhookTest, ACreateRepeatedWithItsRequestIdReturnsTheFirstSubscription) {
  v1::CreateWebhookRequest request;
  request.set_request_id("create-once");
  request.set_url("http://127.0.0.1:9/x");
  request.set_secret(kSecret);
  ASSERT_OK_AND_ASSIGN(auto first, client_->Call("watcher", *Hooks(), &WS::CreateWebhook, request));
  ASSERT_OK_AND_ASSIGN(auto second, client_->Call("watcher", *Hooks(), &WS::CreateWebhook, request));
  EXPECT_EQ(first.webhook().id(), second.webhook().id());
  EXPECT_THAT(ListedIds("watcher"), ElementsAre(first.webhook().id()));
}

TEST_F(WebhookTest, BadInputIsRefusedFieldByFieldAndStoresNothing) {
  v1::CreateWebhookRequest request;
  request.set_request_id("bad");
  request.set_url("ftp://127.0.0.1/x");
  request.set_secret("short");
  request.add_kinds("instance_started");
  request.add_kinds("no_such_kind");
  request.add_definition_keys("no-such-definition");
  request.set_max_attempts(21);
  auto refused = client_->Call("watcher", *Hooks(), &WS::CreateWebhook, request);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_THAT(client_->LastViolationFields(),
              UnorderedElementsAre("url", "secret", "max_attempts", "kinds[1]",
                                   "definition_keys[0]"));
  for (const std::string url : {"https://127.0.0.1/x", "http://", "http://host:0/",
                                "http://user@host/", "http://host/a b", "not a url"}) {
    request.set_url(url);
    request.set_secret(kSecret);
    request.clear_kinds();
    request.clear_definition_keys();
    request.set_max_attempts(0);
    request.set_request_id("bad-" + url);
    auto bad_url = client_->Call("watcher", *Hooks(), &WS::CreateWebhook, request);
    EXPECT_TRUE(absl::IsInvalidArgument(bad_url.status())) << url;
    EXPECT_THAT(client_->LastViolationFields(), ElementsAre("url")) << url;
  }
  request.set_url("http://127.0.0.1/" + std::string(2001, 'a'));
  request.set_request_id("bad-long");
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->Call("watcher", *Hooks(), &WS::CreateWebhook, request).status()));
  request.set_url("http://127.0.0.1/x");
  request.set_secret(std::string(257, 's'));
  request.set_request_id("bad-secret");
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->Call("watcher", *Hooks(), &WS::CreateWebhook, request).status()));
  EXPECT_THAT(ListedIds("ceo"), IsEmpty());

  v1::ListDeliveriesRequest page;
  page.set_webhook_id("wh-x");
  page.set_page_size(501);
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->Call("watcher", *Hooks(), &WS::ListDeliveries, page).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Delete("watcher", "").status()));
}

}  // namespace
}  // namespace signoff::testing
