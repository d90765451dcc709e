// EventService.WatchEvents and NotificationService over the in-process
// channel: who may watch, what a watcher gets, resuming from a cursor while
// writers commit, heartbeats, shutdown, and people's notifications.

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "server_fixture.h"
#include "signoff/v1/events.grpc.pb.h"

namespace signoff::testing {
namespace {

constexpr char kNoteDefinition[] = R"(
key: note
name: Expense note
form:
  fields:
    - {name: amount, type: NUMBER, required: true}
    - {name: salary, type: NUMBER, confidential: true}
steps:
  - id: manager
    approval: {approvers: [{manager_level: 1}]}
    actions: {allowed: [APPROVE, REJECT, COMMENT, CC, REMIND, DELEGATE]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

// A stream as a client holds it.
struct Stream {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> reader;

  // The next item; nullopt once the stream ended.
  std::optional<v1::WatchEventsResponse> Next() {
    v1::WatchEventsResponse item;
    if (!reader->Read(&item)) return std::nullopt;
    return item;
  }
  // The next item that is not a heartbeat.
  std::optional<v1::WatchEventsResponse> NextEvent() {
    for (;;) {
      auto item = Next();
      if (!item || !item->has_heartbeat()) return item;
    }
  }
  grpc::Status End() {
    context->TryCancel();
    v1::WatchEventsResponse ignored;
    while (reader->Read(&ignored)) {
    }
    return reader->Finish();
  }
};

class EventStreamTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kNoteDefinition, "publish-note"));
    events_ = v1::EventService::NewStub(server_->InProcessChannel());
    notifications_ = v1::NotificationService::NewStub(server_->InProcessChannel());
  }

  void Reconnect() {
    events_ = v1::EventService::NewStub(server_->InProcessChannel());
    notifications_ = v1::NotificationService::NewStub(server_->InProcessChannel());
  }

  Stream Watch(const std::string& user, const v1::WatchEventsRequest& request) {
    Stream stream;
    stream.context = std::make_unique<grpc::ClientContext>();
    if (!user.empty()) stream.context->AddMetadata("x-signoff-user", user);
    stream.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stream.reader = events_->WatchEvents(stream.context.get(), request);
    return stream;
  }

  Stream WatchFrom(const std::string& user, int64_t after) {
    v1::WatchEventsRequest request;
    request.set_after_global_seq(after);
    return Watch(user, request);
  }

  // The status a stream ends with before sending anything.
  grpc::Status Refusal(const std::string& user, const v1::WatchEventsRequest& request) {
    Stream stream = Watch(user, request);
    auto item = stream.Next();
    EXPECT_FALSE(item.has_value()) << item->DebugString();
    return stream.reader->Finish();
  }

  absl::StatusOr<v1::InstanceView> StartNote(const std::string& user, int amount,
                                             const std::string& request_id) {
    return client_->Start(user, "note", absl::StrCat("{amount: ", amount, ", salary: 9000}"),
                          request_id);
  }

  std::vector<v1::Event> StoredFeed() {
    std::vector<v1::Event> all;
    int64_t after = 0;
    for (;;) {
      auto page = store_->ListEventsSince(after, 500);
      EXPECT_OK(page);
      if (!page.ok() || page->empty()) return all;
      after = page->back().global_seq();
      all.insert(all.end(), page->begin(), page->end());
    }
  }

  absl::StatusOr<v1::ListNotificationsResponse> Notifications(const std::string& user,
                                                              bool unread_only = false,
                                                              const std::string& recipient = "") {
    v1::ListNotificationsRequest request;
    request.set_unread_only(unread_only);
    request.set_recipient(recipient);
    return client_->Call(user, *notifications_,
                         &v1::NotificationService::Stub::ListNotifications, request);
  }

  std::unique_ptr<v1::EventService::Stub> events_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
};

TEST_F(EventStreamTest, OnlyAuditorsAndWatchEventsAccountsMayWatch) {
  v1::WatchEventsRequest request;
  EXPECT_EQ(Refusal("ann", request).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A process and workflow administrator is not a watcher.
  EXPECT_EQ(Refusal("ceo", request).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A service account without the permission.
  EXPECT_EQ(Refusal("svc", request).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Refusal("gone", request).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Refusal("", request).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_OK(StartNote("ann", 10, "s1"));
  for (const std::string watcher : {"aud", "watcher"}) {
    Stream stream = WatchFrom(watcher, 0);
    auto first = stream.NextEvent();
    ASSERT_TRUE(first.has_value()) << watcher;
    EXPECT_GT(first->cursor(), 0);
    EXPECT_EQ(stream.End().error_code(), grpc::StatusCode::CANCELLED);
  }
}

TEST_F(EventStreamTest, BadRequestsAreRefusedWithTheirFields) {
  v1::WatchEventsRequest negative;
  negative.set_after_global_seq(-1);
  EXPECT_EQ(Refusal("aud", negative).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::WatchEventsRequest kind;
  kind.add_kinds("task_created");
  kind.add_kinds("task_exploded");
  grpc::Status refused = Refusal("aud", kind);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("not valid"), std::string::npos);
  v1::WatchEventsRequest definition;
  definition.add_definition_keys("no-such-process");
  EXPECT_EQ(Refusal("aud", definition).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const int64_t millis : {999, 60001}) {
    v1::WatchEventsRequest heartbeat;
    heartbeat.mutable_heartbeat_interval()->set_seconds(millis / 1000);
    heartbeat.mutable_heartbeat_interval()->set_nanos((millis % 1000) * 1000000);
    EXPECT_EQ(Refusal("aud", heartbeat).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << millis;
  }
  v1::WatchEventsRequest instance;
  instance.set_instance_id("no-such-instance");
  EXPECT_EQ(Refusal("aud", instance).error_code(), grpc::StatusCode::NOT_FOUND);
  // The bounds themselves are accepted.
  for (const int64_t seconds : {1, 60}) {
    v1::WatchEventsRequest heartbeat;
    heartbeat.mutable_heartbeat_interval()->set_seconds(seconds);
    heartbeat.set_after_global_seq(0);
    Stream stream = Watch("aud", heartbeat);
    EXPECT_EQ(stream.End().error_code(), grpc::StatusCode::CANCELLED) << seconds;
  }
  // Nothing stored was touched by the refusals.
  ASSERT_OK_AND_ASSIGN(auto started, StartNote("ann", 10, "s1"));
  EXPECT_EQ(started.status(), v1::RUNNING);
}

TEST_F(EventStreamTest, StreamsTheStoredFeedThenTheLiveTailInCommitOrder) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(StartNote("ann", i, absl::StrCat("s", i)));
  const std::vector<v1::Event> before = StoredFeed();
  Stream stream = WatchFrom("aud", 0);
  for (const auto& expected : before) {
    auto item = stream.NextEvent();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->cursor(), expected.global_seq());
    EXPECT_EQ(item->event().event().hash(), expected.hash());
    EXPECT_EQ(item->event().definition_key(), "note");
  }
  ASSERT_OK_AND_ASSIGN(auto live, StartNote("bo", 7, "live"));
  const std::vector<v1::Event> after = StoredFeed();
  ASSERT_GT(after.size(), before.size());
  for (size_t i = before.size(); i < after.size(); ++i) {
    auto item = stream.NextEvent();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->cursor(), after[i].global_seq());
    EXPECT_EQ(item->event().event().instance_id(), live.id());
    EXPECT_EQ(item->event().definition_key(), "note");
  }
  stream.End();
}

TEST_F(EventStreamTest, FiltersByDefinitionKindAndInstance) {
  ASSERT_OK_AND_ASSIGN(auto note, StartNote("ann", 1, "s1"));
  ASSERT_OK(client_->Start("bo", "leave", "{employee: bo, days: 2}", "s2"));
  ASSERT_OK_AND_ASSIGN(auto other, StartNote("bo", 2, "s3"));
  const int64_t head = StoredFeed().back().global_seq();
  v1::WatchEventsRequest request;
  request.add_definition_keys("note");
  request.add_kinds("instance_started");
  Stream stream = Watch("aud", request);
  for (const auto& expected : {note.id(), other.id()}) {
    auto item = stream.NextEvent();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->event().event().type(), "instance_started");
    EXPECT_EQ(item->event().event().instance_id(), expected);
    EXPECT_EQ(item->notifications_size(), 0);
  }
  stream.End();
  v1::WatchEventsRequest one;
  one.set_instance_id(other.id());
  Stream only = Watch("aud", one);
  int64_t cursor = 0;
  while (cursor < head) {
    auto item = only.NextEvent();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->event().event().instance_id(), other.id());
    cursor = item->cursor();
  }
  only.End();
}

TEST_F(EventStreamTest, HeartbeatsMoveTheCursorPastEventsLeftOut) {
  ASSERT_OK(StartNote("ann", 1, "s1"));
  const int64_t head = StoredFeed().back().global_seq();
  v1::WatchEventsRequest request;
  request.add_kinds("instance_finished");
  request.mutable_heartbeat_interval()->set_seconds(1);
  Stream stream = Watch("aud", request);
  auto item = stream.Next();
  ASSERT_TRUE(item.has_value());
  ASSERT_TRUE(item->has_heartbeat()) << item->DebugString();
  EXPECT_EQ(item->cursor(), head);
  EXPECT_EQ(item->heartbeat().head_global_seq(), head);
  EXPECT_FALSE(item->has_event());
  stream.End();
}

TEST_F(EventStreamTest, ScopedWatchersGetTheirDefinitionsWithConfidentialFieldsCleared) {
  ASSERT_OK(client_->UpsertUsers(
      "ceo", "[{id: note-feed, department: root, service: true, "
             "roles: [{role: watch-events, definitions: [note]}]}]",
      "add-note-feed"));
  ASSERT_OK(client_->Start("bo", "leave", "{employee: bo, days: 2}", "s1"));
  ASSERT_OK_AND_ASSIGN(auto note, StartNote("ann", 5, "s2"));
  v1::WatchEventsRequest leave;
  leave.add_definition_keys("leave");
  EXPECT_EQ(Refusal("note-feed", leave).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Stream scoped = WatchFrom("note-feed", 0);
  auto first = scoped.NextEvent();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->event().definition_key(), "note");
  EXPECT_EQ(first->event().event().type(), "instance_started");
  const auto& form = first->event().event().instance_started().form().fields();
  EXPECT_EQ(form.count("salary"), 0u);
  EXPECT_EQ(form.count("amount"), 1u);
  EXPECT_THAT(first->event().redacted_fields(), ::testing::ElementsAre("salary"));
  scoped.End();
  // The auditor reads it whole.
  v1::WatchEventsRequest whole;
  whole.set_instance_id(note.id());
  Stream audit = Watch("aud", whole);
  auto started = audit.NextEvent();
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->event().event().instance_started().form().fields().count("salary"), 1u);
  EXPECT_EQ(started->event().redacted_fields_size(), 0);
  audit.End();
  // The unary feed is cut and cleared the same way.
  v1::ListEventsRequest page;
  ASSERT_OK_AND_ASSIGN(auto listed, client_->Call("note-feed", *client_->instances,
                                                  &v1::InstanceService::Stub::ListEvents, page));
  ASSERT_GT(listed.events_size(), 0);
  for (const auto& event : listed.events()) {
    EXPECT_EQ(event.instance_id(), note.id());
    if (event.has_instance_started()) {
      EXPECT_EQ(event.instance_started().form().fields().count("salary"), 0u);
    }
  }
}

TEST_F(EventStreamTest, AStreamEndsWhenItsAccountIsDisabled) {
  ASSERT_OK(client_->UpsertUsers(
      "ceo", "[{id: feed2, department: root, service: true, roles: [{role: watch-events}]}]",
      "add-feed2"));
  v1::WatchEventsRequest request;
  request.mutable_heartbeat_interval()->set_seconds(1);
  Stream stream = Watch("feed2", request);
  auto heartbeat = stream.Next();
  ASSERT_TRUE(heartbeat.has_value());
  ASSERT_OK(client_->UpsertUsers(
      "ceo", "[{id: feed2, department: root, service: true, disabled: true}]", "disable-feed2"));
  while (stream.Next()) {
  }
  const grpc::Status ended = stream.reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
}

TEST_F(EventStreamTest, ShutdownEndsStreamsWithUnavailable) {
  Stream stream = WatchFrom("aud", 0);
  ASSERT_OK(StartNote("ann", 1, "s1"));
  ASSERT_TRUE(stream.NextEvent().has_value());
  const absl::Time began = absl::Now();
  std::thread stopper([this] { server_->Shutdown(); });
  while (stream.Next()) {
  }
  const grpc::Status ended = stream.reader->Finish();
  stopper.join();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  EXPECT_LT(absl::Now() - began, absl::Seconds(5));
}

// A stream served by one process follows what another process commits to
// the same database only when the feed looks for other writers
// (--feed-follow); commits of its own wake it either way.
TEST_F(EventStreamTest, AReplicasStreamFollowsCommitsMadeThroughAnotherOnlyWhenToldTo) {
  for (const absl::Duration follow : {absl::Milliseconds(100), absl::ZeroDuration()}) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::Store> opened, database_->Open());
    std::shared_ptr<storage::Store> other_store = std::move(opened);
    ASSERT_OK_AND_ASSIGN(auto other_app,
                         app::Application::Create(other_store, [this] { return now_.load(); }));
    std::shared_ptr<app::Application> other = std::move(other_app);
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.log_calls = false;
    options.timer_poll = absl::ZeroDuration();
    options.readiness_poll = absl::ZeroDuration();
    options.cache_poll = absl::ZeroDuration();
    options.feed_follow = follow;
    ASSERT_OK_AND_ASSIGN(auto replica, server::SignoffServer::Start(other, options));
    auto replica_events = v1::EventService::NewStub(replica->InProcessChannel());

    const std::vector<v1::Event> feed = StoredFeed();
    const int64_t head = feed.empty() ? 0 : feed.back().global_seq();
    grpc::ClientContext context;
    context.AddMetadata("x-signoff-user", "aud");
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    v1::WatchEventsRequest request;
    request.set_after_global_seq(head);
    request.add_kinds("instance_started");
    auto reader = replica_events->WatchEvents(&context, request);
    // Committed through this test's own server, not the replica.
    ASSERT_OK_AND_ASSIGN(auto note, StartNote("ann", 4, absl::StrCat("through-first-", absl::FormatDuration(follow))));
    v1::WatchEventsResponse item;
    const bool arrived = reader->Read(&item);
    if (follow > absl::ZeroDuration()) {
      ASSERT_TRUE(arrived) << reader->Finish().error_message();
      EXPECT_EQ(item.event().event().instance_id(), note.id());
      context.TryCancel();
      while (reader->Read(&item)) {
      }
    } else {
      // Nothing wakes the replica's feed: the stream sees nothing before
      // its deadline.
      EXPECT_FALSE(arrived) << item.DebugString();
    }
    reader->Finish();
    replica->Shutdown();
  }
}

// A consumer that keeps dropping its stream and resuming from the last
// cursor it handled, while eight writers commit and signoffd restarts once,
// sees every event exactly once, in commit order.
class ResumingStreamTest : public EventStreamTest {
 protected:
  // Small, so that a consumer that fell behind reads the store.
  void ConfigureServer(server::ServerOptions& options) override { options.feed_window = 16; }
};

TEST_F(ResumingStreamTest, ResumingFromTheCursorSeesEveryEventOnceWhileEightWritersCommit) {
  std::atomic<bool> writing{true};
  std::atomic<int> committed{0};
  auto write = [&](int writer) {
    const std::string applicant = writer % 2 == 0 ? "ann" : "bo";
    for (int i = 0; writing; ++i) {
      auto started = StartNote(applicant, i, absl::StrCat("w", writer, "-", i));
      if (!started.ok()) continue;
      const std::string task = PendingTaskOf(*started, "mia");
      if (i % 2 == 0 && client_->Decide("mia", task, v1::APPROVE, absl::StrCat("a", writer, "-", i))
                            .ok()) {
        ++committed;
      }
      ++committed;
    }
  };
  std::vector<v1::WatchEventsResponse> seen;
  int64_t cursor = 0;
  // Reads `items` items, or up to `stop_at` when that is set.
  auto consume = [&](int items, int64_t stop_at = 0) {
    Stream stream = WatchFrom("watcher", cursor);
    for (int i = 0; i < items && (stop_at == 0 || cursor < stop_at); ++i) {
      auto item = stream.NextEvent();
      if (!item) break;
      seen.push_back(*item);
      cursor = item->cursor();
    }
    stream.End();
  };
  {
    std::vector<std::thread> writers;
    for (int w = 0; w < 8; ++w) writers.emplace_back(write, w);
    for (int round = 0; round < 12; ++round) consume(25 + round * 7);
    writing = false;
    for (auto& writer : writers) writer.join();
  }
  // A restart in the middle of the feed: the consumer resumes on the new
  // server from the cursor it saved.
  Restart();
  Reconnect();
  ASSERT_OK(StartNote("ann", 1, "after-restart"));
  const std::vector<v1::Event> stored = StoredFeed();
  ASSERT_FALSE(stored.empty());
  const int64_t head = stored.back().global_seq();
  while (cursor < head) consume(200, head);
  ASSERT_EQ(seen.size(), stored.size()) << committed << " commands committed";
  for (size_t i = 0; i < stored.size(); ++i) {
    ASSERT_EQ(seen[i].cursor(), stored[i].global_seq()) << i;
    ASSERT_EQ(seen[i].event().event().hash(), stored[i].hash()) << i;
  }
  EXPECT_GT(committed.load(), 50);
}

TEST_F(EventStreamTest, NotificationsReachWhoeverHoldsTheWorkAfterDelegation) {
  ASSERT_OK_AND_ASSIGN(auto leave, client_->Start("ann", "leave", "{employee: ann, days: 2}", "s1"));
  const std::string manager_task = PendingTaskOf(leave, "mia");
  ASSERT_OK_AND_ASSIGN(auto mia, Notifications("mia"));
  ASSERT_EQ(mia.notifications_size(), 1);
  EXPECT_EQ(mia.notifications(0).kind(), v1::TASK_ASSIGNED);
  EXPECT_EQ(mia.notifications(0).task_id(), manager_task);
  EXPECT_EQ(mia.unread_count(), 1);
  // The applicant is not told of their own start.
  ASSERT_OK_AND_ASSIGN(auto ann, Notifications("ann"));
  EXPECT_EQ(ann.notifications_size(), 0);

  v1::DecideTaskRequest delegate;
  delegate.set_task_id(manager_task);
  delegate.set_action(v1::DELEGATE);
  delegate.add_users("bo");
  ASSERT_OK(client_->Decide("mia", delegate, "d1"));
  ASSERT_OK_AND_ASSIGN(auto bo, Notifications("bo"));
  ASSERT_EQ(bo.notifications_size(), 1);
  EXPECT_EQ(bo.notifications(0).kind(), v1::TASK_ASSIGNED);
  EXPECT_EQ(bo.notifications(0).actor(), "mia");
  // Nobody is told of their own delegation.
  ASSERT_OK_AND_ASSIGN(mia, Notifications("mia"));
  ASSERT_EQ(mia.notifications_size(), 1);
  EXPECT_EQ(mia.notifications(0).kind(), v1::TASK_ASSIGNED);

  // CC and the "CC to me" list.
  v1::DecideTaskRequest cc;
  cc.set_task_id(manager_task);
  cc.set_action(v1::CC);
  cc.add_users("fiona");
  ASSERT_OK(client_->Decide("bo", cc, "cc1"));
  ASSERT_OK_AND_ASSIGN(auto fiona, Notifications("fiona"));
  ASSERT_EQ(fiona.notifications_size(), 1);
  EXPECT_EQ(fiona.notifications(0).kind(), v1::CC_RECEIVED);
  v1::ListInstancesRequest copied;
  copied.set_cc_to_me(true);
  ASSERT_OK_AND_ASSIGN(auto cc_list, client_->Call("fiona", *client_->instances,
                                                   &v1::InstanceService::Stub::ListInstances,
                                                   copied));
  ASSERT_EQ(cc_list.instances_size(), 1);
  EXPECT_EQ(cc_list.instances(0).id(), leave.id());
  ASSERT_OK_AND_ASSIGN(auto not_copied, client_->Call("bo", *client_->instances,
                                                      &v1::InstanceService::Stub::ListInstances,
                                                      copied));
  EXPECT_EQ(not_copied.instances_size(), 0);

  // The manager step approved: the HR group is offered the task.
  ASSERT_OK(client_->Decide("bo", manager_task, v1::APPROVE, "a1"));
  for (const std::string member : {"hal", "hue"}) {
    ASSERT_OK_AND_ASSIGN(auto offered, Notifications(member));
    ASSERT_EQ(offered.notifications_size(), 1) << member;
    EXPECT_EQ(offered.notifications(0).kind(), v1::TASK_OFFERED) << member;
  }
  ASSERT_OK_AND_ASSIGN(auto view, client_->Get("ann", leave.id()));
  ASSERT_EQ(view.pending_tasks_size(), 1);
  const std::string hr_task = view.pending_tasks(0).id();
  v1::ClaimTaskRequest claim;
  claim.set_request_id("claim");
  claim.set_id(hr_task);
  ASSERT_OK(client_->Call("hal", *client_->tasks, &v1::TaskService::Stub::ClaimTask, claim));
  ASSERT_OK(client_->Decide("hal", hr_task, v1::APPROVE, "a2"));
  ASSERT_OK_AND_ASSIGN(ann, Notifications("ann"));
  ASSERT_EQ(ann.notifications_size(), 1);
  EXPECT_EQ(ann.notifications(0).kind(), v1::INSTANCE_OUTCOME);
  EXPECT_EQ(ann.notifications(0).detail(), "APPROVED");
  EXPECT_EQ(ann.notifications(0).instance_id(), leave.id());
}

TEST_F(EventStreamTest, RemindersAndOutcomesAreToldAndReadMarksAreOwnOnly) {
  ASSERT_OK_AND_ASSIGN(auto note, StartNote("ann", 3, "s1"));
  const std::string task = PendingTaskOf(note, "mia");
  v1::RemindTaskRequest remind;
  remind.set_request_id("r1");
  remind.set_id(task);
  ASSERT_OK(client_->Call("ann", *client_->tasks, &v1::TaskService::Stub::RemindTask, remind));
  ASSERT_OK_AND_ASSIGN(auto mia, Notifications("mia"));
  ASSERT_EQ(mia.notifications_size(), 2);
  EXPECT_EQ(mia.notifications(0).kind(), v1::TASK_REMINDED);
  ASSERT_OK(client_->Decide("mia", task, v1::REJECT, "j1", "no budget"));
  ASSERT_OK_AND_ASSIGN(auto ann, Notifications("ann"));
  ASSERT_EQ(ann.notifications_size(), 1);
  EXPECT_EQ(ann.notifications(0).detail(), "REJECTED");

  // Someone else's ids change nothing; the owner's mark them once.
  v1::MarkNotificationsReadRequest others;
  others.add_ids(mia.notifications(0).id());
  ASSERT_OK_AND_ASSIGN(auto none, client_->Call("ann", *notifications_,
                                                &v1::NotificationService::Stub::MarkNotificationsRead,
                                                others));
  EXPECT_EQ(none.marked(), 0);
  v1::MarkNotificationsReadRequest up_to;
  up_to.set_up_to_id(mia.notifications(1).id());
  ASSERT_OK_AND_ASSIGN(auto marked, client_->Call("mia", *notifications_,
                                                  &v1::NotificationService::Stub::MarkNotificationsRead,
                                                  up_to));
  EXPECT_EQ(marked.marked(), 1);
  ASSERT_OK_AND_ASSIGN(auto unread, Notifications("mia", /*unread_only=*/true));
  ASSERT_EQ(unread.notifications_size(), 1);
  EXPECT_EQ(unread.notifications(0).kind(), v1::TASK_REMINDED);
  EXPECT_EQ(unread.unread_count(), 1);
  ASSERT_OK_AND_ASSIGN(auto again, client_->Call("mia", *notifications_,
                                                 &v1::NotificationService::Stub::MarkNotificationsRead,
                                                 up_to));
  EXPECT_EQ(again.marked(), 0);
  ASSERT_OK_AND_ASSIGN(auto all, Notifications("mia"));
  EXPECT_TRUE(all.notifications(1).read());
  EXPECT_TRUE(all.notifications(1).has_read_at());

  // Others' lists: auditors only.
  EXPECT_CODE(Notifications("bo", false, "mia"), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto audited, Notifications("aud", false, "mia"));
  EXPECT_EQ(audited.notifications_size(), 2);
  // Bad input.
  v1::MarkNotificationsReadRequest empty;
  EXPECT_CODE(client_->Call("mia", *notifications_,
                            &v1::NotificationService::Stub::MarkNotificationsRead, empty),
              absl::StatusCode::kInvalidArgument);
  v1::MarkNotificationsReadRequest negative;
  negative.add_ids(-4);
  EXPECT_CODE(client_->Call("mia", *notifications_,
                            &v1::NotificationService::Stub::MarkNotificationsRead, negative),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ::testing::ElementsAre("ids[0]"));
  v1::ListNotificationsRequest big;
  big.set_page_size(501);
  EXPECT_CODE(client_->Call("mia", *notifications_,
                            &v1::NotificationService::Stub::ListNotifications, big),
              absl::StatusCode::kInvalidArgument);
  big.set_page_size(500);
  EXPECT_OK(client_->Call("mia", *notifications_,
                          &v1::NotificationService::Stub::ListNotifications, big));
}

TEST_F(EventStreamTest, NotificationsTravelWithTheEventThatMadeThem) {
  v1::WatchEventsRequest request;
  request.add_kinds("notification");
  Stream stream = Watch("aud", request);
  ASSERT_OK_AND_ASSIGN(auto note, StartNote("ann", 3, "s1"));
  auto item = stream.NextEvent();
  ASSERT_TRUE(item.has_value());
  EXPECT_FALSE(item->has_event());
  ASSERT_EQ(item->notifications_size(), 1);
  EXPECT_EQ(item->notifications(0).recipient(), "mia");
  EXPECT_EQ(item->notifications(0).kind(), v1::TASK_ASSIGNED);
  EXPECT_EQ(item->notifications(0).global_seq(), item->cursor());
  EXPECT_EQ(item->notifications(0).instance_id(), note.id());
  stream.End();
}

TEST_F(EventStreamTest, PagingNotificationsNewestFirst) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(StartNote("ann", i, absl::StrCat("s", i)));
  v1::ListNotificationsRequest request;
  request.set_page_size(2);
  std::vector<int64_t> ids;
  for (int page = 0; page < 5; ++page) {
    ASSERT_OK_AND_ASSIGN(auto response, client_->Call("mia", *notifications_,
                                                      &v1::NotificationService::Stub::ListNotifications,
                                                      request));
    for (const auto& notification : response.notifications()) ids.push_back(notification.id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  request.set_page_token("bogus");
  EXPECT_CODE(client_->Call("mia", *notifications_,
                            &v1::NotificationService::Stub::ListNotifications, request),
              absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signoff::testing
