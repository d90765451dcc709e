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

TEST_P(ReportStoreTest, AQueryCanAddUpDepartmentsAndDaysInTheDatabase) {
  ReportCell east = Cell("decided", "step", "review", 20000, 2, {{3, 2}});
  east.key.department = "east";
  ReportCell west_next_day = Cell("decided", "step", "review", 20001, 1, {{3, 1}, {9, 1}});
  west_next_day.key.department = "west";
  ReportCell west_late = Cell("decided", "step", "review", 20005, 4, {{1, 4}});
  west_late.key.department = "west";
  ReportCell other_step = Cell("decided", "step", "check", 20001, 1);
  ReportWrites writes;
  writes.cells = {east, west_next_day, west_late, other_step};
  ASSERT_OK(Write(writes));

  ReportCellQuery query{"claim", "step", 20000, 20004, {"decided"}};
  query.sum_departments = true;
  query.sum_days = true;
  auto summed = store().QueryReportCells(query);
  ASSERT_OK(summed);
  ASSERT_THAT(*summed, SizeIs(2));
  const ReportCell& review =
      (*summed)[0].key.dim_value == "review" ? (*summed)[0] : (*summed)[1];
  EXPECT_EQ(review.key.dim_value, "review");
  EXPECT_EQ(review.key.department, "");
  EXPECT_EQ(review.key.day, 20000);
  // The cell on day 20005 is outside the period.
  EXPECT_EQ(review.count, 3);
  EXPECT_EQ(review.total_wall, 30);
  EXPECT_EQ(review.total_business, 15);
  EXPECT_THAT(review.wall_hist, ElementsAre(Pair(3, 3), Pair(9, 1)));
  EXPECT_THAT(review.business_hist, SizeIs(0));

  query.day_to = 20005;
  query.sum_days = false;
  query.departments = std::vector<std::string>{"west"};
  auto by_day = store().QueryReportCells(query);
  ASSERT_OK(by_day);
  ASSERT_THAT(*by_day, SizeIs(2));
  for (const ReportCell& cell : *by_day) {
    EXPECT_EQ(cell.key.department, "");
    EXPECT_EQ(cell.count, cell.key.day == 20001 ? 1 : 4);
  }

  query.sum_departments = false;
  query.sum_days = true;
  query.departments.reset();
  query.metric_prefixes.clear();
  auto by_department = store().QueryReportCells(query);
  ASSERT_OK(by_department);
  int64_t west = 0, rows = 0;
  for (const ReportCell& cell : *by_department) {
    ++rows;
    if (cell.key.department == "west" && cell.key.dim_value == "review") west = cell.count;
  }
  EXPECT_EQ(rows, 3);  // review in east and west, check in sales
  EXPECT_EQ(west, 5);
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
