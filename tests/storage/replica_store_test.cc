// Two stores on one database, as two replicas hold them: what one writes
// the other must neither lose, repeat nor number twice. Each writer has a
// connection of its own, so on PostgreSQL these are concurrent
// transactions; on SQLite they take turns at the file's write lock.

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::testing::IsEmpty;

constexpr int kWritersPerStore = 3;

// Runs fn(store, writer) on kWritersPerStore threads per store, all at once.
template <typename Fn>
void OnBothStores(Store& first, Store& second, Fn fn) {
  std::vector<std::thread> threads;
  for (Store* store : {&first, &second}) {
    for (int writer = 0; writer < kWritersPerStore; ++writer) {
      const int id = static_cast<int>(threads.size());
      threads.emplace_back([store, id, &fn] { fn(*store, id); });
    }
  }
  for (std::thread& thread : threads) thread.join();
}

class ReplicaStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto other = backend().Open();
    ASSERT_TRUE(other.ok()) << other.status();
    other_ = std::move(other).value();
  }

  Store& other() { return *other_; }

 private:
  std::unique_ptr<Store> other_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ReplicaStoreTest,
                         ::testing::Values(BackendParam{"sqlite", &MakeSqliteBackend},
                                           BackendParam{"postgresql", &MakePostgresqlBackend}),
                         BackendName);

TEST_P(ReplicaStoreTest, PublishesThroughBothStoresTakeDistinctVersions) {
  constexpr int kPublishesPerWriter = 4;
  std::mutex mutex;
  std::vector<int32_t> versions;
  OnBothStores(store(), other(), [&](Store& store, int) {
    for (int i = 0; i < kPublishesPerWriter; ++i) {
      absl::StatusOr<CommitResult> result = store.Commit(Publish(MakeDefinition("dealer", "D")));
      ASSERT_TRUE(result.ok()) << result.status();
      std::lock_guard<std::mutex> lock(mutex);
      versions.push_back(result->definition_version);
    }
  });
  std::sort(versions.begin(), versions.end());
  const int total = 2 * kWritersPerStore * kPublishesPerWriter;
  ASSERT_EQ(versions.size(), static_cast<size_t>(total));
  for (int i = 0; i < total; ++i) EXPECT_EQ(versions[i], i + 1);
  ASSERT_OK_AND_ASSIGN(auto latest, other().GetDefinition("dealer", 0));
  EXPECT_EQ(latest.version(), total);
}

TEST_P(ReplicaStoreTest, ANamedVersionTakenThroughTheOtherStoreIsAborted) {
  ASSERT_OK(store().Commit(Publish(MakeDefinition("dealer", "D"))));
  signoff::v1::PublishedDefinition second = MakeDefinition("dealer", "D2");
  second.set_version(2);
  ASSERT_OK(other().Commit(Publish(second)));
  EXPECT_CODE(store().Commit(Publish(second)), absl::StatusCode::kAborted);
  ASSERT_OK_AND_ASSIGN(auto latest, store().GetDefinition("dealer", 0));
  EXPECT_EQ(latest.version(), 2);
  EXPECT_EQ(latest.definition().name(), "D2");
}

TEST_P(ReplicaStoreTest, OneInstanceStartedThroughBothStoresExistsOnce) {
  std::atomic<int> started{0}, aborted{0}, other_code{0};
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    Mutation start = StartMutation(MakeInstance("i-1", 1));
    start.events.push_back(MakeEvent("i-1", absl::StrCat("writer-", writer)));
    absl::StatusOr<CommitResult> result = store.Commit(start);
    if (result.ok()) {
      ++started;
    } else if (absl::IsAborted(result.status())) {
      ++aborted;
    } else {
      ADD_FAILURE() << result.status();
      ++other_code;
    }
  });
  EXPECT_EQ(started, 1);
  EXPECT_EQ(aborted, 2 * kWritersPerStore - 1);
  ASSERT_OK_AND_ASSIGN(History history, other().GetHistory("i-1"));
  EXPECT_EQ(history.events.size(), 1u);
  EXPECT_TRUE(VerifyHistory(history));
}

TEST_P(ReplicaStoreTest, ASubjectTakenThroughTheOtherStoreIsAlreadyExists) {
  std::atomic<int> started{0}, held{0};
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    const std::string id = absl::StrCat("i-", writer);
    Mutation start = StartMutation(MakeInstance(id, 1, "dealer", "alice", "dealer-9"));
    start.open_subject_key = "dealer:dealer-9";
    absl::StatusOr<CommitResult> result = store.Commit(start);
    if (result.ok()) {
      ++started;
    } else {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists) << result.status();
      ++held;
    }
  });
  EXPECT_EQ(started, 1);
  EXPECT_EQ(held, 2 * kWritersPerStore - 1);
}

TEST_P(ReplicaStoreTest, DecisionsOnOneInstanceThroughBothStoresGetOneWinnerPerVersion) {
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-1", 1))));
  std::atomic<int> committed{0};
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      absl::StatusOr<signoff::v1::InstanceState> now = store.GetInstance("i-1");
      ASSERT_TRUE(now.ok()) << now.status();
      Mutation decide;
      decide.instance = MakeInstance("i-1", now->version() + 1);
      decide.expected_version = now->version();
      decide.events.push_back(MakeEvent("i-1", absl::StrCat("writer-", writer)));
      absl::StatusOr<CommitResult> result = store.Commit(decide);
      if (result.ok()) {
        ++committed;
        return;
      }
      ASSERT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
    }
  });
  EXPECT_EQ(committed, 2 * kWritersPerStore);
  ASSERT_OK_AND_ASSIGN(auto instance, store().GetInstance("i-1"));
  EXPECT_EQ(instance.version(), 1 + 2 * kWritersPerStore);
  ASSERT_OK_AND_ASSIGN(History history, other().GetHistory("i-1"));
  EXPECT_EQ(history.events.size(), static_cast<size_t>(2 * kWritersPerStore));
  EXPECT_TRUE(VerifyHistory(history));
}

TEST_P(ReplicaStoreTest, EventsAppendedThroughBothStoresKeepOneChain) {
  constexpr int kAppendsPerWriter = 8;
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-1", 1))));
  std::atomic<int> appended{0};
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    for (int i = 0; i < kAppendsPerWriter; ++i) {
      Mutation append;
      append.events.push_back(MakeEvent("i-1", absl::StrCat("writer-", writer)));
      for (int attempt = 0; attempt < 50; ++attempt) {
        absl::StatusOr<CommitResult> result = store.Commit(append);
        if (result.ok()) {
          ++appended;
          break;
        }
        ASSERT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
      }
    }
  });
  EXPECT_EQ(appended, 2 * kWritersPerStore * kAppendsPerWriter);
  ASSERT_OK_AND_ASSIGN(History history, other().GetHistory("i-1"));
  EXPECT_EQ(history.events.size(), static_cast<size_t>(appended.load()));
  EXPECT_TRUE(VerifyHistory(history));
}

TEST_P(ReplicaStoreTest, AdminEventsAppendedThroughBothStoresKeepOneChain) {
  constexpr int kAppendsPerWriter = 10;
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    for (int i = 0; i < kAppendsPerWriter; ++i) {
      const std::string id = absl::StrCat("w", writer, "-", i);
      Mutation change = RecordAdminEvent(MakeAdminEvent(absl::StrCat("writer-", writer), id));
      // Half the changes also append instance events, so that the trail's
      // lock and the event-order lock are taken together too.
      if (i % 2 == 1) {
        change.instance = MakeInstance(id, 1);
        change.events.push_back(MakeEvent(id, "alice"));
      }
      ASSERT_OK(store.Commit(change));
    }
  });
  const int total = 2 * kWritersPerStore * kAppendsPerWriter;
  ASSERT_OK_AND_ASSIGN(AdminTrailPage trail, other().ListAdminEvents(0, 1000));
  ASSERT_EQ(trail.events.size(), static_cast<size_t>(total));
  EXPECT_EQ(trail.event_count, total);
  EXPECT_TRUE(VerifyAdminTrailPage(trail));
  std::set<std::string> targets;
  for (const auto& event : trail.events) targets.insert(event.target());
  EXPECT_EQ(targets.size(), static_cast<size_t>(total));
}

TEST_P(ReplicaStoreTest, TimersClaimedThroughBothStoresGoToOneOwnerEach) {
  constexpr int kTimers = 60;
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  for (int i = 0; i < kTimers; ++i) {
    start.timers_set.push_back(MakeTimer(absl::StrCat("t", 100 + i), 100 + i));
  }
  ASSERT_OK(store().Commit(start));
  std::mutex mutex;
  std::vector<std::string> claimed;
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    for (;;) {
      TimerClaim claim;
      claim.now = absl::FromUnixSeconds(1000);
      claim.owner = absl::StrCat("replica-", writer);
      claim.lease = absl::Seconds(60);
      claim.limit = 4;
      absl::StatusOr<std::vector<ClaimedTimer>> got = store.ClaimDueTimers(claim);
      ASSERT_TRUE(got.ok()) << got.status();
      if (got->empty()) return;
      std::lock_guard<std::mutex> lock(mutex);
      for (const ClaimedTimer& timer : *got) claimed.push_back(timer.timer.id());
    }
  });
  std::set<std::string> distinct(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTimers));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kTimers));
}

TEST_P(ReplicaStoreTest, TheEventFeedReadDuringWritesMissesAndRepeatsNothing) {
  constexpr int kInstancesPerWriter = 15;
  std::atomic<bool> writing{true};
  std::vector<signoff::v1::Event> seen;
  int64_t cursor = 0;
  auto read_feed = [&] {
    absl::StatusOr<std::vector<signoff::v1::Event>> page = other().ListEventsSince(cursor, 7);
    if (!page.ok()) {
      ADD_FAILURE() << page.status();
      return false;
    }
    for (const auto& event : *page) {
      EXPECT_GT(event.global_seq(), cursor);
      cursor = event.global_seq();
      seen.push_back(event);
    }
    return !page->empty();
  };
  std::thread reader([&] {
    while (writing) read_feed();
  });
  OnBothStores(store(), other(), [&](Store& store, int writer) {
    for (int i = 0; i < kInstancesPerWriter; ++i) {
      const std::string id = absl::StrCat("w", writer, "-", i);
      Mutation start = StartMutation(MakeInstance(id, 1));
      start.events = {MakeEvent(id, "alice"), MakeEvent(id, "bob")};
      ASSERT_OK(store.Commit(start));
    }
  });
  writing = false;
  reader.join();
  while (read_feed()) {
  }
  const size_t expected = 2u * 2 * kWritersPerStore * kInstancesPerWriter;
  ASSERT_EQ(seen.size(), expected);
  std::set<std::pair<std::string, int64_t>> distinct;
  for (const auto& event : seen) distinct.insert({event.instance_id(), event.instance_seq()});
  EXPECT_EQ(distinct.size(), expected);
}

TEST_P(ReplicaStoreTest, EventsSinceStartsAfterTheCursorAndStopsAtTheLimit) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  start.events = {MakeEvent("i-1", "a"), MakeEvent("i-1", "b"), MakeEvent("i-1", "c")};
  ASSERT_OK_AND_ASSIGN(CommitResult committed, store().Commit(start));
  const int64_t first = committed.events[0].global_seq();
  ASSERT_OK_AND_ASSIGN(auto all, other().ListEventsSince(first - 1, 10));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].actor(), "a");
  EXPECT_EQ(all[2].hash(), committed.events[2].hash());
  ASSERT_OK_AND_ASSIGN(auto after_first, other().ListEventsSince(first, 10));
  ASSERT_EQ(after_first.size(), 2u);
  EXPECT_EQ(after_first[0].actor(), "b");
  ASSERT_OK_AND_ASSIGN(auto limited, other().ListEventsSince(first - 1, 2));
  EXPECT_EQ(limited.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto none, other().ListEventsSince(committed.events[2].global_seq(), 10));
  EXPECT_THAT(none, IsEmpty());
  EXPECT_CODE(other().ListEventsSince(0, 0), absl::StatusCode::kInvalidArgument);
}

TEST_P(ReplicaStoreTest, CatalogVersionsMoveOnlyWithTheirOwnChanges) {
  ASSERT_OK_AND_ASSIGN(CatalogVersions before, other().GetCatalogVersions());
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-1", 1))));
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_instance, other().GetCatalogVersions());
  EXPECT_EQ(after_instance, before);

  ASSERT_OK(store().Commit(Publish(MakeDefinition("dealer", "D"))));
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_definition, other().GetCatalogVersions());
  EXPECT_EQ(after_definition.definitions, before.definitions + 1);
  EXPECT_EQ(after_definition.directory, before.directory);
  EXPECT_EQ(after_definition.calendars, before.calendars);

  Mutation directory;
  signoff::v1::User user;
  user.set_id("zoe");
  user.set_department("hq");
  directory.users = {user};
  ASSERT_OK(store().Commit(directory));
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_user, other().GetCatalogVersions());
  EXPECT_EQ(after_user.directory, before.directory + 1);
  EXPECT_EQ(after_user.definitions, after_definition.definitions);

  Mutation calendar;
  calendar.calendar.emplace();
  calendar.calendar->mutable_calendar()->set_name("cn");
  ASSERT_OK(store().Commit(calendar));
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_calendar, other().GetCatalogVersions());
  EXPECT_EQ(after_calendar.calendars, before.calendars + 1);
  EXPECT_EQ(after_calendar.directory, after_user.directory);

  // A failed change moves nothing.
  Mutation bad;
  signoff::v1::User nameless;
  bad.users = {nameless};
  EXPECT_CODE(store().Commit(bad), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_failure, other().GetCatalogVersions());
  EXPECT_EQ(after_failure, after_calendar);
}

}  // namespace
}  // namespace signoff::storage::testing
