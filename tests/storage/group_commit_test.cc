// Group commit: concurrent callers, and batches where some members fail.

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "storage/mutation_writer.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::InstanceState;

constexpr int kThreads = 8;
constexpr int kCommitsPerThread = 50;

// One instance per thread, advanced one version per commit, each commit
// with an event, a task and an idempotency record.
Mutation Step(const std::string& instance_id, int step) {
  Mutation mutation;
  mutation.instance = MakeInstance(instance_id, step);
  mutation.expected_version = step - 1;
  mutation.events.push_back(MakeEvent(instance_id, absl::StrCat("actor-", step), step));
  mutation.tasks.push_back(MakeTask(absl::StrCat(instance_id, "-t", step), instance_id,
                                    signoff::v1::PENDING, "bob", step));
  mutation.idempotency = IdempotencyRecord{"", absl::StrCat(instance_id, "-r", step), "Step",
                                           "fp", absl::StrCat("reply ", step)};
  return mutation;
}

TEST_P(StoreTest, ConcurrentCommitsAllSucceed) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = absl::StrCat("i-", t);
      for (int step = 1; step <= kCommitsPerThread; ++step) {
        auto result = store().Commit(Step(id, step));
        if (!result.ok() || result->events.size() != 1 ||
            result->events[0].instance_seq() != step) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);

  std::set<int64_t> global_seqs;
  for (int t = 0; t < kThreads; ++t) {
    const std::string id = absl::StrCat("i-", t);
    ASSERT_OK_AND_ASSIGN(InstanceState instance, store().GetInstance(id));
    EXPECT_EQ(instance.version(), kCommitsPerThread);
    ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents(id));
    ASSERT_EQ(events.size(), static_cast<size_t>(kCommitsPerThread));
    EXPECT_TRUE(VerifyEventChain(events)) << id;
    EXPECT_EQ(events.back().actor(), absl::StrCat("actor-", kCommitsPerThread));
    for (const auto& event : events) global_seqs.insert(event.global_seq());
    TaskFilter tasks;
    tasks.instance_id = id;
    tasks.page_size = 500;
    ASSERT_OK_AND_ASSIGN(auto page, store().ListTasks(tasks));
    EXPECT_EQ(page.items.size(), static_cast<size_t>(kCommitsPerThread));
    ASSERT_OK_AND_ASSIGN(auto record, store().FindIdempotency("", absl::StrCat(id, "-r7")));
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->reply, "reply 7");
  }
  EXPECT_EQ(global_seqs.size(), static_cast<size_t>(kThreads * kCommitsPerThread));
}

TEST_P(StoreTest, RacingWritersOnOneInstanceGetExactlyOneWinnerPerVersion) {
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("shared", 1))));
  std::vector<Mutation> contenders;
  for (int i = 0; i < 16; ++i) {
    Mutation mutation;
    mutation.instance = MakeInstance("shared", 2);
    mutation.instance->set_outcome_reason(absl::StrCat("contender ", i));
    mutation.expected_version = 1;
    mutation.events.push_back(MakeEvent("shared", absl::StrCat("c", i)));
    contenders.push_back(std::move(mutation));
  }
  int winners = 0, aborted = 0;
  for (const auto& result : CommitConcurrently(store(), std::move(contenders), kThreads)) {
    if (result.ok()) ++winners;
    if (result.status().code() == absl::StatusCode::kAborted) ++aborted;
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(aborted, 15);
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("shared"));
  EXPECT_EQ(events.size(), 1u);
  ASSERT_OK_AND_ASSIGN(InstanceState instance, store().GetInstance("shared"));
  EXPECT_EQ(instance.version(), 2);
  EXPECT_EQ(events[0].actor(), "c" + instance.outcome_reason().substr(10));
}

// Drives the writer directly so that every mutation is known to share one
// transaction.
TEST_P(StoreTest, FailedMembersOfOneBatchLeaveTheOthersCommitted) {
  Mutation holder = StartMutation(MakeInstance("holder", 1));
  holder.open_subject_key = "dealer/D-1";
  ASSERT_OK(store().Commit(holder));
  ASSERT_OK(store().Commit(Record(IdempotencyRecord{"", "r-old", "X", "fp", "old reply"})));

  Mutation good_a = Step("a", 1);
  Mutation stale = Step("holder", 3);
  Mutation good_b = Step("b", 1);
  Mutation subject_taken = Step("c", 1);
  subject_taken.open_subject_key = "dealer/D-1";
  Mutation duplicate = Step("d", 1);
  duplicate.idempotency->request_id = "r-old";
  Mutation reuses_a_request = Step("e", 1);
  reuses_a_request.idempotency->request_id = "a-r1";
  Mutation good_c = Step("a", 2);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Dialect> dialect, backend().MakeDialect());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MutationWriter> writer, MutationWriter::Open(*dialect));
  const auto batch = EncodedAll(
      {&good_a, &stale, &good_b, &subject_taken, &duplicate, &reuses_a_request, &good_c});
  auto results = writer->CommitBatch(Pointers(batch));

  ASSERT_EQ(results.size(), 7u);
  EXPECT_OK(results[0]);
  EXPECT_CODE(results[1], absl::StatusCode::kAborted);
  EXPECT_OK(results[2]);
  EXPECT_CODE(results[3], absl::StatusCode::kAlreadyExists);
  ASSERT_OK(results[4]);
  EXPECT_TRUE(results[4]->duplicate_request);
  EXPECT_EQ(results[4]->existing.reply, "old reply");
  ASSERT_OK(results[5]);
  EXPECT_TRUE(results[5]->duplicate_request);
  EXPECT_EQ(results[5]->existing.reply, "reply 1");
  ASSERT_OK(results[6]);
  EXPECT_EQ(results[6]->events.at(0).instance_seq(), 2);

  ASSERT_OK_AND_ASSIGN(InstanceState a, store().GetInstance("a"));
  EXPECT_EQ(a.version(), 2);
  ASSERT_OK_AND_ASSIGN(auto a_events, store().ListEvents("a"));
  EXPECT_EQ(a_events.size(), 2u);
  EXPECT_TRUE(VerifyEventChain(a_events));
  EXPECT_OK(store().GetInstance("b"));
  ASSERT_OK_AND_ASSIGN(InstanceState holder_state, store().GetInstance("holder"));
  EXPECT_EQ(holder_state.version(), 1);
  for (const char* absent : {"c", "d", "e"}) {
    EXPECT_CODE(store().GetInstance(absent), absl::StatusCode::kNotFound) << absent;
    EXPECT_CODE(store().GetTask(absl::StrCat(absent, "-t1")), absl::StatusCode::kNotFound);
  }
  EXPECT_CODE(store().GetTask("holder-t3"), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto old_record, store().FindIdempotency("", "r-old"));
  EXPECT_EQ(old_record->reply, "old reply");
  ASSERT_OK_AND_ASSIGN(auto c_record, store().FindIdempotency("", "c-r1"));
  EXPECT_FALSE(c_record.has_value());
}

TEST_P(StoreTest, MixedConcurrentCommitsFailOnlyWhereTheyShould) {
  Mutation holder = StartMutation(MakeInstance("holder", 1));
  holder.open_subject_key = "dealer/held";
  ASSERT_OK(store().Commit(holder));

  std::vector<Mutation> mutations;
  for (int i = 0; i < 60; ++i) {
    Mutation mutation = Step(absl::StrCat("m-", i), 1);
    if (i % 3 == 1) mutation = Step(absl::StrCat("ghost-", i), 4);
    if (i % 3 == 2) mutation.open_subject_key = "dealer/held";
    mutations.push_back(std::move(mutation));
  }
  auto results = CommitConcurrently(store(), std::move(mutations), kThreads);

  for (int i = 0; i < 60; ++i) {
    const std::string id = i % 3 == 1 ? absl::StrCat("ghost-", i) : absl::StrCat("m-", i);
    if (i % 3 == 0) {
      EXPECT_OK(results[i]) << id;
      EXPECT_OK(store().GetInstance(id));
      ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents(id));
      EXPECT_EQ(events.size(), 1u);
    } else {
      EXPECT_CODE(results[i], i % 3 == 1 ? absl::StatusCode::kAborted
                                         : absl::StatusCode::kAlreadyExists);
      EXPECT_CODE(store().GetInstance(id), absl::StatusCode::kNotFound);
      ASSERT_OK_AND_ASSIGN(auto record, store().FindIdempotency("", absl::StrCat(id, "-r1")));
      EXPECT_FALSE(record.has_value()) << id;
    }
  }
}

TEST_P(StoreTest, ConcurrentReadsDuringWrites) {
  std::atomic<bool> done{false};
  std::atomic<int> read_errors{0};
  std::thread reader([&] {
    while (!done) {
      if (!store().ListInstances(InstanceFilter{}).ok()) ++read_errors;
      if (!store().LoadDirectory().ok()) ++read_errors;
    }
  });
  std::vector<Mutation> mutations;
  for (int i = 0; i < 100; ++i) mutations.push_back(Step(absl::StrCat("r-", i), 1));
  auto results = CommitConcurrently(store(), std::move(mutations), 4);
  done = true;
  reader.join();
  for (const auto& result : results) EXPECT_OK(result);
  EXPECT_EQ(read_errors.load(), 0);
  InstanceFilter all;
  all.page_size = 500;
  ASSERT_OK_AND_ASSIGN(auto page, store().ListInstances(all));
  EXPECT_EQ(page.items.size(), 100u);
}

}  // namespace
}  // namespace signoff::storage::testing
