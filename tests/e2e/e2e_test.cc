// End to end: the real signoffd with the shipped definitions and the demo
// organisation, driven through gRPC over TCP, killed and restarted midway.
#include <grpcpp/grpcpp.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "e2e_fixture.h"
#include "run_program.h"
#include "signoffd_process.h"
#include "status_matchers.h"
#include "workflow/engine.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::ElementsAre;


constexpr char kProbationForm[] = R"({
  employee: bob.zhang, grade: P5, probation_end: 2026-03-31,
  self_assessment: "Closed 40 dealer cases and trained two new colleagues.",
  needs_cross_feedback: true, feedback_departments: [finance, legal],
  recommendation: confirm})";

TEST_F(EndToEndTest, ProbationReviewWithReturnResubmitAndACrash) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("bob.zhang", "probation-review", kProbationForm, "pr-1"));
  const std::string id = view.id();
  Approve("alice.chen", id);

  // The department head sends it back to the employee for more detail.
  const std::string head_task = TaskFor("ivy.wang", id);
  ASSERT_OK(client_->Decide("ivy.wang", head_task, v1::RETURN, "return-1",
                            "Add the customer satisfaction figures."));
  EXPECT_EQ(Get(id).status(), v1::RETURNED);

  CrashAndRestart();
  EXPECT_EQ(Get(id).status(), v1::RETURNED);

  v1::ResubmitInstanceRequest resubmit;
  resubmit.set_request_id("resubmit-1");
  resubmit.set_id(id);
  std::string form = kProbationForm;
  form.replace(form.find("colleagues."), 11, "colleagues; CSAT 4.8.");
  *resubmit.mutable_form() = *workflow::ParseFormYaml(form);
  ASSERT_OK(client_->Call("bob.zhang", *client_->instances,
                          &v1::InstanceService::Stub::ResubmitInstance, resubmit));
  // It resumes at the returning step.
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("department-review"));
  Approve("ivy.wang", id);

  // Cross-department feedback goes to each named department's head at once.
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("cross-department-feedback"));
  std::set<std::string> heads;
  view = Get(id);
  for (const auto& task : view.pending_tasks()) heads.insert(task.assignee());
  EXPECT_EQ(heads.size(), 2u);
  for (const auto& head : heads) Approve(head, id);

  EXPECT_THAT(Get(id).active_steps(), ElementsAre("hr-review"));
  Approve("amy.song", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("final-approval-junior"));
  CrashAndRestart();
  Approve("linda.xu", id);
  Complete("brian.cao", id);

  view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "CONFIRMED");
  EXPECT_TRUE(view.pending_tasks().empty());
  auto events = VerifiedHistory(id);
  std::vector<std::string> types;
  for (const auto& event : events) types.push_back(event.type());
  EXPECT_THAT(types, Contains("instance_returned"));
  EXPECT_THAT(types, Contains("instance_resubmitted"));
  EXPECT_THAT(types, Contains("cc_sent"));
  EXPECT_EQ(events.back().type(), "cc_sent");
}

TEST_F(EndToEndTest, ProbationReviewRejectedGoesThroughTheNotification) {
  std::string form = kProbationForm;
  form.replace(form.find("P5"), 2, "P7");
  form.replace(form.find("needs_cross_feedback: true"), 26, "needs_cross_feedback: false");
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("cathy.wu", "probation-review",
                                                 absl::StrCat(form.substr(0, form.find("bob.zhang")),
                                                              "cathy.wu",
                                                              form.substr(form.find("bob.zhang") + 9)),
                                                 "pr-2"));
  const std::string id = view.id();
  Approve("alice.chen", id);
  Approve("ivy.wang", id);
  Approve("brian.cao", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("final-approval-senior"));
  v1::DecideTaskRequest reject;
  reject.set_task_id(TaskFor("grace.liu", id));
  reject.set_action(v1::REJECT);
  reject.set_reason_code("goals_not_met");
  reject.set_comment("Two of three probation goals were missed.");
  ASSERT_OK(client_->Decide("grace.liu", reject, "reject-1"));
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("notify-rejection"));
  Complete("amy.song", id);
  EXPECT_EQ(Get(id).status(), v1::REJECTED);
  EXPECT_EQ(Get(id).outcome(), "DISMISSED");
  auto events = VerifiedHistory(id);
  bool rejection_recorded = false;
  for (const auto& event : events) {
    rejection_recorded |= event.has_task_completed() && event.reason() == "goals_not_met" &&
                          event.actor() == "grace.liu";
  }
  EXPECT_TRUE(rejection_recorded);
}

TEST_F(EndToEndTest, DealerClaimWithFinanceAndITDataAdjustment) {
  ASSERT_OK_AND_ASSIGN(
      auto view,
      client_->Start("bob.zhang", "dealer-application",
                     "{dealer_id: D-1001, application_type: claim, amount: '250000.00', "
                     "region: sales-east, description: 'Q1 special-sales claim', "
                     "data_adjustment: true, adjustment_details: 'Fix dealer tier'}",
                     "da-1"));
  const std::string id = view.id();
  Approve("alice.chen", id);
  // Above the threshold: claims and finance review in parallel.
  view = Get(id);
  std::set<std::string> steps(view.active_steps().begin(), view.active_steps().end());
  EXPECT_EQ(steps, (std::set<std::string>{"claims-branch-review", "finance-branch-review"}));
  Approve("tina.luo", id);
  CrashAndRestart();
  Approve("victor.fang", id);

  EXPECT_THAT(Get(id).active_steps(), ElementsAre("it-data-adjustment"));
  Complete("svc-it-data", id, "{ticket: IT-7731, applied: true}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("confirm-adjustment"));
  Complete("bob.zhang", id);
  EXPECT_EQ(Get(id).status(), v1::APPROVED);

  auto events = VerifiedHistory(id);
  bool result_recorded = false;
  for (const auto& event : events) {
    if (event.has_task_completed() && event.actor() == "svc-it-data") {
      result_recorded =
          event.task_completed().task().result().fields().at("ticket").string_value() == "IT-7731";
    }
  }
  EXPECT_TRUE(result_recorded);
}

TEST_F(EndToEndTest, DealerAccountRejectedThenAppealed) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("bob.zhang", "dealer-application",
                                      "{dealer_id: D-2002, application_type: account, "
                                      "region: sales-east, description: 'New dealer account'}",
                                      "da-2"));
  const std::string id = view.id();
  Approve("alice.chen", id);
  v1::DecideTaskRequest reject;
  reject.set_task_id(TaskFor("sam.qian", id));
  reject.set_action(v1::REJECT);
  reject.set_reason_code("incomplete_documents");
  reject.set_comment("Business licence missing.");
  ASSERT_OK(client_->Decide("sam.qian", reject, "reject-2"));
  EXPECT_EQ(Get(id).status(), v1::REJECTED);

  CrashAndRestart();
  v1::AppealInstanceRequest appeal;
  appeal.set_request_id("appeal-2");
  appeal.set_id(id);
  appeal.set_comment("Licence uploaded to the dealer file.");
  ASSERT_OK(client_->Call("bob.zhang", *client_->instances,
                          &v1::InstanceService::Stub::AppealInstance, appeal));
  EXPECT_EQ(Get(id).status(), v1::RUNNING);
  // alice.chen approved this same form before: dedupe carries her approval.
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("account-review"));
  Approve("sophie.ye", id);
  EXPECT_EQ(Get(id).status(), v1::APPROVED);
  VerifiedHistory(id);
}

TEST_F(EndToEndTest, RestartKeepsDefinitionsWithoutRepublishing) {
  v1::ListDefinitionsRequest request;
  ASSERT_OK_AND_ASSIGN(auto before, client_->Call("grace.liu", *client_->definitions,
                                                  &v1::DefinitionService::Stub::ListDefinitions,
                                                  request));
  CrashAndRestart();
  ASSERT_OK_AND_ASSIGN(auto after, client_->Call("grace.liu", *client_->definitions,
                                                 &v1::DefinitionService::Stub::ListDefinitions,
                                                 request));
  // Every shipped definition, each still at its first version.
  ASSERT_EQ(before.definitions_size(), 9);
  ASSERT_EQ(after.definitions_size(), 9);
  for (const auto& summary : after.definitions()) EXPECT_EQ(summary.latest_version(), 1);
}

// Runs signoffd with `listen` on a fresh database and gives its exit code
// and what it printed; it either fails at once or is stopped after a while.
std::pair<int, std::string> ServeOn(const std::filesystem::path& dir, const std::string& listen) {
  const std::string command =
      absl::StrCat("timeout -s KILL 20 ", SIGNOFFD_BINARY, " serve --db '",
                   (dir / "other.db").string(), "' --listen '", listen, "' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[512];
  while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pipe == nullptr ? -1 : pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(EndToEndTest, ABadListenAddressIsReportedNotACrash) {
  for (const std::string& listen : std::vector<std::string>{
           "127.0.0.1:abc", "127.0.0.1:99999", "127.0.0.1", "0.0.0.0:0",
        "unix:" + (dir_ / "missing" / "signoff.sock").string(),
        // The port the fixture's signoffd holds.
        server_->address()}) {
    auto [code, output] = ServeOn(dir_, listen);
    EXPECT_EQ(code, 1) << listen << "\n" << output;
    EXPECT_THAT(output, HasSubstr("signoffd: ")) << listen;
    EXPECT_THAT(output, ::testing::Not(HasSubstr("listening on"))) << listen;
  }
}

TEST_F(EndToEndTest, ARestartNeverPublishesAnUnchangedFileOverTheApi) {
  // An administrator publishes a change through the API.
  v1::GetDefinitionRequest get;
  get.set_key("dealer-claim");
  ASSERT_OK_AND_ASSIGN(auto shipped, client_->Call("grace.liu", *client_->definitions,
                                                   &v1::DefinitionService::Stub::GetDefinition,
                                                   get));
  EXPECT_EQ(shipped.published().origin(), "file:dealer-claim.yaml");
  v1::PublishDefinitionRequest publish;
  publish.set_request_id("api-change");
  *publish.mutable_source()->mutable_definition() = shipped.published().definition();
  publish.mutable_source()->mutable_definition()->set_name("Dealer claim (revised)");
  ASSERT_OK_AND_ASSIGN(auto revised, client_->Call("carl.yuan", *client_->definitions,
                                                   &v1::DefinitionService::Stub::PublishDefinition,
                                                   publish));
  EXPECT_EQ(revised.published().version(), 2);
  EXPECT_EQ(revised.published().origin(), "");

  // A restart with the same shipped files leaves it in force, and says so.
  CrashAndRestart();
  ASSERT_OK_AND_ASSIGN(auto latest, client_->Call("grace.liu", *client_->definitions,
                                                  &v1::DefinitionService::Stub::GetDefinition,
                                                  get));
  EXPECT_EQ(latest.published().version(), 2);
  EXPECT_EQ(latest.published().definition().name(), "Dealer claim (revised)");
  std::ifstream log((dir_ / "signoffd.log").string());
  std::stringstream logged;
  logged << log.rdbuf();
  EXPECT_THAT(logged.str(), HasSubstr("dealer-claim.yaml is older than definition dealer-claim "
                                      "version 2"));
}

TEST_F(EndToEndTest, AChangedFileIsPublishedOnRestart) {
  const std::filesystem::path shipped =
      std::filesystem::path(SIGNOFF_SOURCE_DIR) / "workflow" / "definitions";
  const std::filesystem::path own = dir_ / "definitions";
  std::filesystem::create_directories(own);
  std::filesystem::copy(shipped, own, std::filesystem::copy_options::recursive);
  std::vector<std::string> flags = {"--directory", (own / "demo-org.yaml").string(),
                                    "--definitions", own.string()};
  server_->SetExtraFlags(flags);
  CrashAndRestart();
  std::string text;
  {
    std::ifstream in(own / "dealer-claim.yaml");
    std::stringstream read;
    read << in.rdbuf();
    text = read.str();
  }
  const std::string name = "name: Dealer claim\n";
  ASSERT_NE(text.find(name), std::string::npos);
  text.replace(text.find(name), name.size(), "name: Dealer claim (from the new file)\n");
  std::ofstream(own / "dealer-claim.yaml") << text;
  CrashAndRestart();
  v1::GetDefinitionRequest get;
  get.set_key("dealer-claim");
  ASSERT_OK_AND_ASSIGN(auto latest, client_->Call("grace.liu", *client_->definitions,
                                                  &v1::DefinitionService::Stub::GetDefinition,
                                                  get));
  EXPECT_EQ(latest.published().version(), 2);
  EXPECT_EQ(latest.published().definition().name(), "Dealer claim (from the new file)");
  EXPECT_EQ(latest.published().origin(), "file:dealer-claim.yaml");
  // And once more unchanged: still version 2.
  CrashAndRestart();
  ASSERT_OK_AND_ASSIGN(latest, client_->Call("grace.liu", *client_->definitions,
                                             &v1::DefinitionService::Stub::GetDefinition, get));
  EXPECT_EQ(latest.published().version(), 2);
}

}  // namespace
}  // namespace signoff::testing

namespace signoff::testing {
namespace {

ProgramResult Migrate(const std::filesystem::path& dir, std::vector<std::string> flags) {
  std::vector<std::string> args = {SIGNOFFD_BINARY, "migrate"};
  args.insert(args.end(), flags.begin(), flags.end());
  return RunProgram(std::move(args), {}, dir);
}

TEST_F(EndToEndTest, TheDatabaseCanBeNamedInAFile) {
  // The fixture's database, named only in the file: migrate finds it at
  // the schema the running signoffd left.
  const std::filesystem::path secret = dir_ / "db-url";
  std::ofstream(secret) << database_->db_flag() << "\n";
  ProgramResult migrated = Migrate(dir_, {"--db-file", secret.string()});
  EXPECT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_THAT(migrated.out, HasSubstr("schema version"));
  // The file wins over --db.
  ProgramResult over = Migrate(
      dir_, {"--db", (dir_ / "missing" / "never.db").string(), "--db-file", secret.string()});
  EXPECT_EQ(over.exit_code, 0) << over.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing"));

  std::ofstream(dir_ / "empty");
  ProgramResult empty = Migrate(dir_, {"--db-file", (dir_ / "empty").string()});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("is empty"));
  ProgramResult missing = Migrate(dir_, {"--db-file", (dir_ / "nowhere").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("cannot read"));
}

TEST_F(EndToEndTest, ATimerLeaseIsAtLeastOneSecond) {
  const std::string db = (dir_ / "lease.db").string();
  ProgramResult short_lease = Migrate(dir_, {"--db", db, "--timer-lease", "999ms"});
  EXPECT_EQ(short_lease.exit_code, 2);
  EXPECT_THAT(short_lease.err, HasSubstr("--timer-lease must be at least 1s"));
  ProgramResult not_a_duration = Migrate(dir_, {"--db", db, "--cache-poll", "soon"});
  EXPECT_EQ(not_a_duration.exit_code, 2);
  EXPECT_THAT(not_a_duration.err, HasSubstr("--cache-poll"));
  ProgramResult one_second = Migrate(dir_, {"--db", db, "--timer-lease", "1s"});
  EXPECT_EQ(one_second.exit_code, 0) << one_second.err;
}

TEST_F(EndToEndTest, ABadDatabaseUrlIsReportedWithoutItsPassword) {
  ProgramResult bad = Migrate(dir_, {"--db", "postgresql://ann:s3cret@127.0.0.1:1/x?nonsense=1"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(bad.err, ::testing::Not(HasSubstr("s3cret")));
  ProgramResult away = Migrate(dir_, {"--db", "postgresql://ann:s3cret@127.0.0.1:1/x"});
  EXPECT_EQ(away.exit_code, 1);
  EXPECT_THAT(away.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(away.err, ::testing::Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace signoff::testing
