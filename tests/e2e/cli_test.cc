// The real signoffctl against a real signoffd: a whole probation review
// driven through the CLI alone, both output formats parsed, exit codes.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "signoff/v1/service.pb.h"
#include "signoffd_process.h"
#include "status_matchers.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A table printed by signoffctl, read by column name.
class ParsedTable {
 public:
  explicit ParsedTable(const std::string& text) {
    std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
    if (lines.empty()) return;
    const std::string& header = lines[0];
    for (size_t at = 0; at < header.size();) {
      const size_t end = header.find("  ", at);
      const std::string name = header.substr(at, end == std::string::npos ? end : end - at);
      starts_[name] = at;
      order_.push_back(name);
      if (end == std::string::npos) break;
      at = header.find_first_not_of(' ', end);
    }
    rows_.assign(lines.begin() + 1, lines.end());
  }

  size_t size() const { return rows_.size(); }

  std::string Cell(size_t row, const std::string& column) const {
    auto it = starts_.find(column);
    if (it == starts_.end() || row >= rows_.size()) return "<no such cell>";
    const std::string& line = rows_[row];
    if (it->second >= line.size()) return "";
    const size_t end = line.find("  ", it->second);
    return std::string(absl::StripAsciiWhitespace(line.substr(it->second, end - it->second)));
  }

  const std::vector<std::string>& columns() const { return order_; }

 private:
  std::map<std::string, size_t> starts_;
  std::vector<std::string> order_;
  std::vector<std::string> rows_;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("signoff-cli-", ::getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
    server_ = std::make_unique<SignoffdProcess>(
        SIGNOFFD_BINARY, dir_,
        std::vector<std::string>{"--directory", definitions + "/demo-org.yaml", "--definitions",
                                 definitions});
    server_->Start();
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result Run(std::vector<std::string> args, const std::string& address = "") {
    args.insert(args.begin(), {SIGNOFFCTL_BINARY, "--address",
                               address.empty() ? server_->address() : address, "--timeout", "5"});
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string out_path = (dir_ / "out").string();
    const std::string err_path = (dir_ / "err").string();
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out);
    close(err);
    int status = 0;
    waitpid(pid, &status, 0);
    Result result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = Slurp(out_path);
    result.err = Slurp(err_path);
    return result;
  }

  template <typename Message>
  Message Json(const Result& result) {
    Message message;
    auto status = google::protobuf::util::JsonStringToMessage(result.out, &message);
    EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << result.out;
    return message;
  }

  // The one pending task of `user` in `instance`, from the JSON inbox.
  v1::Task InboxTask(const std::string& user, const std::string& instance) {
    auto inbox = Json<v1::ListTasksResponse>(Run({"--as", user, "-o", "json", "task", "list"}));
    for (const auto& task : inbox.tasks()) {
      if (task.instance_id() == instance) return task;
    }
    ADD_FAILURE() << "no task for " << user;
    return {};
  }

  void Ok(const Result& result) {
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SignoffdProcess> server_;
};

TEST_F(CliTest, WholeProbationReviewThroughTheCli) {
  const std::string form = (dir_ / "form.yaml").string();
  std::ofstream(form) << "employee: bob.zhang\ngrade: P5\nprobation_end: 2026-03-31\n"
                         "self_assessment: Closed forty dealer cases this quarter.\n"
                         "needs_cross_feedback: false\nrecommendation: confirm\n";
  Result started = Run({"--as", "bob.zhang", "-o", "json", "instance", "start",
                        "probation-review", "--form-file", form, "--request-id", "cli-1"});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();
  ASSERT_FALSE(id.empty());

  // alice.chen's inbox, as a table, by column.
  Result inbox = Run({"--as", "alice.chen", "task", "list"});
  Ok(inbox);
  ParsedTable table(inbox.out);
  ASSERT_EQ(table.size(), 1u) << inbox.out;
  EXPECT_EQ(table.Cell(0, "ASSIGNEE"), "alice.chen");
  EXPECT_EQ(table.Cell(0, "STEP"), "supervisor-evaluation");
  EXPECT_EQ(table.Cell(0, "SUBJECT"), "bob.zhang");
  EXPECT_EQ(table.Cell(0, "STATUS"), "PENDING");
  Ok(Run({"--as", "alice.chen", "task", "approve", table.Cell(0, "ID"), "--comment", "solid"}));

  // The department head returns it; the employee resubmits one field.
  Ok(Run({"--as", "ivy.wang", "task", "return", InboxTask("ivy.wang", id).id(), "--comment",
          "add CSAT"}));
  Result returned = Run({"--as", "bob.zhang", "-o", "json", "instance", "get", id});
  EXPECT_EQ(Json<v1::InstanceResponse>(returned).instance().status(), v1::RETURNED);
  Ok(Run({"--as", "bob.zhang", "instance", "resubmit", id, "--form",
          "self_assessment=Closed forty dealer cases; CSAT 4.8."}));
  Ok(Run({"--as", "ivy.wang", "task", "approve", InboxTask("ivy.wang", id).id()}));
  Ok(Run({"--as", "amy.song", "task", "approve", InboxTask("amy.song", id).id()}));
  Ok(Run({"--as", "linda.xu", "task", "approve", InboxTask("linda.xu", id).id()}));
  const std::string notify = InboxTask("brian.cao", id).id();
  Ok(Run({"--as", "brian.cao", "task", "claim", notify}));
  Ok(Run({"--as", "brian.cao", "task", "complete", notify}));

  Result done = Run({"--as", "bob.zhang", "-o", "json", "instance", "get", id});
  Ok(done);
  EXPECT_EQ(Json<v1::InstanceResponse>(done).instance().status(), v1::APPROVED);

  Result history = Run({"--as", "bob.zhang", "-o", "json", "instance", "history", id});
  auto events = Json<v1::GetHistoryResponse>(history);
  EXPECT_TRUE(events.chain_verified());
  bool resubmitted = false;
  for (const auto& event : events.events()) resubmitted |= event.has_instance_resubmitted();
  EXPECT_TRUE(resubmitted);

  Result table_history = Run({"--as", "bob.zhang", "instance", "history", id});
  EXPECT_THAT(table_history.out, HasSubstr("hash chain verified"));
  ParsedTable trail(table_history.out.substr(0, table_history.out.rfind("hash chain")));
  EXPECT_EQ(trail.Cell(0, "EVENT"), "instance_started");
  EXPECT_EQ(trail.Cell(0, "ACTOR"), "bob.zhang");

  Result listed = Run({"--as", "bob.zhang", "instance", "list", "--definition", "probation-review",
                       "--status", "approved"});
  ParsedTable instances(listed.out);
  ASSERT_EQ(instances.size(), 1u) << listed.out;
  EXPECT_EQ(instances.Cell(0, "ID"), id);
  EXPECT_EQ(instances.Cell(0, "STATUS"), "APPROVED");
}

TEST_F(CliTest, ExitCodesFollowTheConvention) {
  Result usage = Run({"task", "approve"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  EXPECT_EQ(Run({"--output", "yaml", "health"}).exit_code, 2);
  EXPECT_EQ(Run({"instance", "list", "--status", "sideways"}).exit_code, 2);

  Result unavailable = Run({"health"}, "127.0.0.1:1");
  EXPECT_EQ(unavailable.exit_code, 64 + 14) << unavailable.err;
  EXPECT_THAT(unavailable.err, HasSubstr("UNAVAILABLE"));

  Result started = Run({"--as", "bob.zhang", "-o", "json", "instance", "start", "dealer-application",
                        "--form", "dealer_id=D-9", "--form", "application_type=account", "--form",
                        "region=sales-east", "--form", "description=New account"});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();
  Result denied = Run({"--as", "bob.zhang", "task", "approve", InboxTask("alice.chen", id).id()});
  EXPECT_EQ(denied.exit_code, 64 + 7) << denied.err;
  EXPECT_THAT(denied.err, HasSubstr("PERMISSION_DENIED"));

  Result bad_form = Run({"--as", "bob.zhang", "instance", "start", "dealer-application", "--form",
                         "application_type=lease", "--form", "amount=12.345"});
  EXPECT_EQ(bad_form.exit_code, 64 + 3) << bad_form.err;
  EXPECT_THAT(bad_form.err, HasSubstr("\n  form.application_type: must be one of"));
  EXPECT_THAT(bad_form.err, HasSubstr("\n  form.amount: "));
  EXPECT_THAT(bad_form.err, HasSubstr("\n  form.dealer_id: is required"));

  Result missing_file = Run({"--as", "bob.zhang", "directory", "import", "/nonexistent/org.yaml"});
  EXPECT_EQ(missing_file.exit_code, 2) << missing_file.err;

  Ok(Run({"health"}));
  Result health = Run({"-o", "json", "health"});
  EXPECT_THAT(health.out, HasSubstr("\"readiness\":\"SERVING\""));
}

TEST_F(CliTest, OfflineValidationUsesTheServersValidator) {
  const std::string shipped =
      std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/probation-review.yaml";
  Result good = Run({"definition", "validate", "--offline", shipped});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_THAT(good.out, HasSubstr("valid (probation-review)"));

  const std::string bad = (dir_ / "bad.yaml").string();
  std::ofstream(bad) << "key: bad\nsteps:\n  - {id: a, approval: {approvers: []}, next: [{to: "
                        "nowhere}]}\n  - {id: a, end: {}, colour: red}\n";
  Result offline = Run({"definition", "validate", "--offline", bad}, "127.0.0.1:1");
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_THAT(offline.out, HasSubstr("steps[1].colour: unknown field"));

  std::ofstream(bad) << "key: bad\nsteps:\n  - {id: a, approval: {approvers: []}, next: [{to: "
                        "nowhere}]}\n  - {id: a, end: {}}\n";
  offline = Run({"definition", "validate", "--offline", bad}, "127.0.0.1:1");
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_THAT(offline.out, HasSubstr("steps[0].approval.approvers: names no one"));
  EXPECT_THAT(offline.out, HasSubstr("steps[0].next[0].to: unknown step 'nowhere'"));
  EXPECT_THAT(offline.out, HasSubstr("steps[1].id: duplicate step id 'a'"));

  Result online = Run({"--as", "bob.zhang", "-o", "json", "definition", "validate", bad});
  EXPECT_EQ(online.exit_code, 1);
  auto response = Json<v1::ValidateDefinitionResponse>(online);
  EXPECT_FALSE(response.valid());
  EXPECT_EQ(response.problems_size(), 3);
}

TEST_F(CliTest, DefinitionsAndDirectoryCommands) {
  const std::string org = (dir_ / "org.yaml").string();
  std::ofstream(org) << "departments: [{id: audit, name: Audit, parent: exec, head: ada.audit}]\n"
                        "users: [{id: ada.audit, display_name: Ada, department: audit, "
                        "manager: grace.liu, roles: [{role: auditor}]}]\n";
  Result denied = Run({"--as", "bob.zhang", "directory", "import", org});
  EXPECT_EQ(denied.exit_code, 64 + 7) << denied.err;
  Ok(Run({"--as", "carl.yuan", "directory", "import", org}));
  Result user = Run({"--as", "bob.zhang", "-o", "json", "directory", "user", "get", "ada.audit"});
  Ok(user);
  auto got = Json<v1::GetUserResponse>(user);
  EXPECT_EQ(got.department().head(), "ada.audit");
  EXPECT_EQ(got.manager_chain(0), "grace.liu");
  ParsedTable auditors(Run({"--as", "bob.zhang", "directory", "user", "list", "--role", "auditor"}).out);
  ASSERT_EQ(auditors.size(), 1u);
  EXPECT_EQ(auditors.Cell(0, "ID"), "ada.audit");

  ParsedTable definitions(Run({"--as", "bob.zhang", "definition", "list"}).out);
  ASSERT_EQ(definitions.size(), 4u);
  EXPECT_EQ(definitions.Cell(0, "KEY"), "dealer-application");
  EXPECT_EQ(definitions.Cell(0, "LATEST"), "1");
  const std::string shipped =
      std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/dealer-application.yaml";
  Result republished = Run({"--as", "carl.yuan", "-o", "json", "definition", "publish", shipped});
  Ok(republished);
  EXPECT_EQ(Json<v1::PublishDefinitionResponse>(republished).published().version(), 2);
  Result first = Run({"--as", "bob.zhang", "-o", "json", "definition", "get", "dealer-application@1"});
  EXPECT_EQ(Json<v1::GetDefinitionResponse>(first).published().version(), 1);
  EXPECT_EQ(Run({"definition", "get", "dealer-application@zero"}).exit_code, 2);

  Result preview = Run({"--as", "bob.zhang", "instance", "preview", "dealer-application", "--form",
                        "dealer_id=D-1", "--form", "application_type=claim", "--form",
                        "amount=250000", "--form", "region=sales-east", "--form",
                        "description=Quarterly special-sales claim"});
  Ok(preview);
  ParsedTable route(preview.out.substr(0, preview.out.find("outcome")));
  EXPECT_EQ(route.Cell(0, "STEP"), "manager-endorsement");
  EXPECT_EQ(route.Cell(0, "APPROVER"), "alice.chen");
}

}  // namespace
}  // namespace signoff::testing
