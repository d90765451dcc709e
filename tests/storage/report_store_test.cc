// The KPI report projections on every backend: cells add up with their
// histograms, facts are upserted and removed, the position moves only from
// where it was read, and a reset empties everything.

#include "absl/strings/str_cat.h"
#include "storage/report_store.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::SizeIs;

class ReportStoreTest : public StoreTest {
 protected:
  absl::Status Write(ReportWrites writes) {
    Mutation mutation;
    mutation.reports = std::move(writes);
    return store().Commit(std::move(mutation)).status();
  }

  std::vector<ReportCell> Cells(const std::string& dim, int32_t from, int32_t to,
                                std::vector<std::string> prefixes = {}) {
    ReportCellQuery query{"claim", dim, from, to, std::move(prefixes)};
    auto cells = store().QueryReportCells(query);
    EXPECT_TRUE(cells.ok()) << cells.status();
    return cells.ok() ? *cells : std::vector<ReportCell>();
  }
};

ReportCell Cell(const std::string& metric, const std::string& dim, const std::string& value,
                int32_t day, int64_t count, Histogram wall = {}) {
  ReportCell cell;
  cell.key = {"claim", metric, dim, value, "sales", day};
  cell.count = count;
  cell.total_wall = 10 * count;
  cell.total_business = 5 * count;
  cell.wall_hist = std::move(wall);
  return cell;
}

ReportTaskFact Task(const std::string& id, const std::string& instance_id) {
  ReportTaskFact task;
  task.task_id = id;
  task.instance_id = instance_id;
  task.definition_key = "claim";
  task.department = "sales";
  task.subject = "D1";
  task.step_id = "review";
  task.token = "s1";
  task.approver = "fred";
  task.created_us = 1000;
  task.pending_us = 1000;
  task.has_sla = true;
  return task;
}

TEST_P(ReportStoreTest, CellsAddUpWithTheirHistograms) {
  ReportWrites first;
  first.cells = {Cell("decided", "step", "review", 20000, 1, {{3, 1}}),
                 Cell("started", "all", "", 20000, 2)};
  ASSERT_OK(Write(first));
  ReportWrites second;
  second.cells = {Cell("decided", "step", "review", 20000, 2, {{3, 1}, {7, 1}}),
                  Cell("decided", "step", "review", 20001, 1, {{1, 1}})};
  ASSERT_OK(Write(second));

  std::vector<ReportCell> cells = Cells("step", 20000, 20000);
  ASSERT_THAT(cells, SizeIs(1));
  EXPECT_EQ(cells[0].count, 3);
  EXPECT_EQ(cells[0].total_wall, 30);
  EXPECT_EQ(cells[0].total_business, 15);
  EXPECT_THAT(cells[0].wall_hist, ElementsAre(Pair(3, 2), Pair(7, 1)));
  EXPECT_THAT(Cells("step", 20000, 20001), SizeIs(2));
  EXPECT_THAT(Cells("all", 0, 30000, {"start"}), SizeIs(1));
  EXPECT_THAT(Cells("all", 0, 30000, {"finish"}), SizeIs(0));
}

TEST_P(ReportStoreTest, FactsAreUpsertedLoadedByInstanceAndRemoved) {
  ReportInstanceFact instance;
  instance.instance_id = "i1";
  instance.definition_key = "claim";
  instance.definition_version = 1;
  instance.department = "sales";
  instance.subject = "D1";
  instance.started_us = 1000;
  ReportWrites writes;
  writes.instances = {instance};
  writes.tasks = {Task("i1-t1", "i1"), Task("i1-t2", "i1"), Task("i2-t1", "i2")};
  ASSERT_OK(Write(writes));

  instance.returns = 2;
  instance.rating = 4.5;
  ReportTaskFact moved = Task("i1-t1", "i1");
  moved.approver = "fiona";
  moved.breached = true;
  ReportWrites changes;
  changes.instances = {instance};
  changes.tasks = {moved};
  changes.tasks_removed = {"i1-t2"};
  ASSERT_OK(Write(changes));

  ASSERT_OK_AND_ASSIGN(ReportFacts facts, store().LoadReportFacts({"i1", "missing"}));
  ASSERT_THAT(facts.instances, SizeIs(1));
  EXPECT_EQ(facts.instances[0].returns, 2);
  EXPECT_EQ(facts.instances[0].rating, 4.5);
  ASSERT_THAT(facts.tasks, SizeIs(1));
  EXPECT_EQ(facts.tasks[0].approver, "fiona");
  EXPECT_TRUE(facts.tasks[0].breached);
  ASSERT_OK_AND_ASSIGN(std::vector<ReportTaskFact> open, store().ListOpenReportTasks("claim"));
  EXPECT_THAT(open, SizeIs(2));
}

TEST_P(ReportStoreTest, ThePositionMovesOnlyFromWhereItWasReadAndAResetEmptiesAll) {
  ASSERT_OK_AND_ASSIGN(int64_t start, store().GetReportPosition());
  EXPECT_EQ(start, 0);
  ReportWrites advance;
  advance.advance = ReportAdvance{0, 7};
  advance.cells = {Cell("started", "all", "", 1, 1)};
  ASSERT_OK(Write(advance));
  // A rival that read position 0 too loses, and writes nothing.
  ReportWrites stale = advance;
  EXPECT_TRUE(absl::IsAborted(Write(stale)));
  EXPECT_EQ(Cells("all", 0, 10)[0].count, 1);
  ASSERT_OK_AND_ASSIGN(int64_t moved, store().GetReportPosition());
  EXPECT_EQ(moved, 7);

  ReportWrites reset;
  reset.reset = true;
  reset.tasks = {Task("t", "i")};
  ASSERT_OK(Write(reset));
  ASSERT_OK_AND_ASSIGN(int64_t back, store().GetReportPosition());
  EXPECT_EQ(back, 0);
  EXPECT_THAT(Cells("all", 0, 10), SizeIs(0));
  EXPECT_THAT(*store().ListOpenReportTasks("claim"), SizeIs(1));
}

TEST(ReportHistogramText, RoundTripsAndRefusesDamage) {
  Histogram histogram = {{0, 2}, {17, 5}};
  EXPECT_EQ(EncodeHistogram(histogram), "0:2,17:5");
  ASSERT_OK_AND_ASSIGN(Histogram decoded, DecodeHistogram("0:2,17:5"));
  EXPECT_EQ(decoded, histogram);
  EXPECT_TRUE(absl::IsDataLoss(DecodeHistogram("3:x").status()));
}

INSTANTIATE_TEST_SUITE_P(Backends, ReportStoreTest,
                         ::testing::Values(BackendParam{"sqlite", &MakeSqliteBackend},
                                           BackendParam{"postgresql", &MakePostgresqlBackend}),
                         BackendName);

}  // namespace
}  // namespace signoff::storage::testing
