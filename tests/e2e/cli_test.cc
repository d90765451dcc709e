// The real signoffctl against a real signoffd: a whole probation review
// driven through the CLI alone, both output formats parsed, exit codes.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "signoff/v1/attachments.pb.h"
#include "signoff/v1/events.pb.h"
#include "signoff/v1/jobs.pb.h"
#include "signoff/v1/reports.pb.h"
#include "signoff/v1/service.pb.h"
#include "signoff/v1/webhooks.pb.h"
#include "run_program.h"
#include "signoffd_process.h"
#include "status_matchers.h"

namespace signoff::testing {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

using Result = ProgramResult;

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
    dir_ = FreshTestDirectory("signoff-cli");
    StartServer({});
  }

  // signoffd on the test's database, with `extra` flags; a running one is
  // killed first.
  void StartServer(const std::vector<std::string>& extra) {
    server_.reset();
    const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
    std::vector<std::string> flags = {"--directory", definitions + "/demo-org.yaml",
                                      "--definitions", definitions};
    flags.insert(flags.end(), extra.begin(), extra.end());
    server_ = std::make_unique<SignoffdProcess>(SIGNOFFD_BINARY, dir_, flags);
    server_->Start();
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result Run(std::vector<std::string> args, const std::string& address = "") {
    return RunWithEnv({}, std::move(args), address);
  }

  // signoffctl with `env` ("NAME=value") added to its environment. The
  // runner's own SIGNOFF_TZ is left out, so that times read the same
  // wherever the tests run.
  Result RunWithEnv(std::vector<std::string> env, std::vector<std::string> args,
                    const std::string& address = "") {
    args.insert(args.begin(), {SIGNOFFCTL_BINARY, "--address",
                               address.empty() ? server_->address() : address, "--timeout", "5"});
    for (char** inherited = environ; *inherited != nullptr; ++inherited) {
      if (!absl::StartsWith(*inherited, "SIGNOFF_TZ=")) env.push_back(*inherited);
    }
    return RunProgram(std::move(args), std::move(env), dir_);
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

  // A file in the test's directory with `text` in it.
  std::string File(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A dealer claim filed by bob.zhang; claim-review goes to tina.luo and
  // tony.hu.
  std::string StartDealerClaim(const std::string& dealer) {
    const std::string form =
        File("claim.yaml", absl::StrCat("dealer_id: ", dealer, "\nclaim_type: warranty\n"
                                        "amount: 1200\nregion: sales-east\n"
                                        "description: Warranty repair of ten vehicles\n"));
    Result started = Run({"--as", "bob.zhang", "-o", "json", "instance", "start", "dealer-claim",
                          "--form-file", form});
    Ok(started);
    return Json<v1::InstanceResponse>(started).instance().id();
  }

  // The row of `table` whose `column` is `value`; -1 when none is.
  static int RowWhere(const ParsedTable& table, const std::string& column, const std::string& value) {
    for (size_t row = 0; row < table.size(); ++row) {
      if (table.Cell(row, column) == value) return static_cast<int>(row);
    }
    return -1;
  }

  // A definition with no calendar and no reason codes, whose one approval
  // goes to alice.chen; its name is Chinese.
  void PublishQuickNote() {
    const std::string yaml = File("quick-note.yaml",
                                  "key: quick-note\nname: 快速便条\n"
                                  "form:\n  fields:\n"
                                  "    - {name: note, label: Note, type: STRING, required: true}\n"
                                  "    - {name: copies, label: Copies, type: NUMBER}\n"
                                  "    - {name: tags, label: Tags, type: LIST, item_type: STRING}\n"
                                  "start_step: sign\n"
                                  "steps:\n"
                                  "  - id: sign\n    name: Sign\n"
                                  "    approval: {approvers: [{user: alice.chen}], policy: ANY}\n"
                                  "    next: [{to: done}]\n"
                                  "  - {id: done, name: Done, end: {}}\n");
    Ok(Run({"--as", "carl.yuan", "definition", "publish", yaml}));
  }

  // A quick note filed by bob.zhang with `note` as its text.
  std::string StartQuickNote(const std::string& note) {
    Result started = Run({"--as", "bob.zhang", "-o", "json", "instance", "start", "quick-note",
                          "--form", "note=" + note, "--form", "copies=12", "--form", "tags=urgent,east"});
    Ok(started);
    return Json<v1::InstanceResponse>(started).instance().id();
  }

  // How many calls of `method` (e.g. "DefinitionService/GetDefinition")
  // signoffd has logged; it logs a call before answering it.
  int CallsLogged(const std::string& method) {
    const std::string log = ReadWholeFile(dir_ / "signoffd.log");
    const std::string needle = absl::StrCat("\"method\":\"/signoff.v1.", method, "\"");
    int calls = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++calls;
    return calls;
  }

  // What signoffctl shows for `stamp` in the zone `zone_name`.
  static std::string TimeIn(const google::protobuf::Timestamp& stamp, const std::string& zone_name) {
    absl::TimeZone zone;
    EXPECT_TRUE(absl::LoadTimeZone(zone_name, &zone)) << zone_name;
    return absl::FormatTime("%Y-%m-%d %H:%M %Z", absl::FromUnixSeconds(stamp.seconds()), zone);
  }

  // The line of `text` that starts with `prefix`; "" when none does.
  static std::string LineStarting(const std::string& text, const std::string& prefix) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, prefix)) return std::string(line);
    }
    return "";
  }

  std::filesystem::path dir_;
  std::unique_ptr<SignoffdProcess> server_;
};

// The words of a command line as the shell splits them: blanks separate,
// quotes group; no expansions.
std::vector<std::string> ShellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

// The commands of the README's signoffctl tour, continuation lines joined
// and comments dropped.
std::vector<std::string> ReadmeTour() {
  const std::string readme = ReadWholeFile(std::string(SIGNOFF_SOURCE_DIR) + "/README.md");
  const size_t intro = readme.find("The same through `signoffctl`");
  if (intro == std::string::npos) return {};
  const size_t begin = readme.find("```sh\n", intro);
  const size_t end = readme.find("```\n", begin + 6);
  if (begin == std::string::npos || end == std::string::npos) return {};
  std::vector<std::string> commands;
  std::string command;
  for (absl::string_view line : absl::StrSplit(readme.substr(begin + 6, end - begin - 6), '\n')) {
    const size_t comment = line.find("  #");
    if (comment != absl::string_view::npos) line = line.substr(0, comment);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const bool continues = absl::ConsumeSuffix(&line, "\\");
    absl::StrAppend(&command, command.empty() ? "" : " ", absl::StripAsciiWhitespace(line));
    if (continues) continue;
    commands.push_back(command);
    command.clear();
  }
  return commands;
}

// Terminal columns before byte `at` of `line`: the Chinese in these tests
// takes two columns a character.
size_t ColumnsBefore(const std::string& line, size_t at) {
  size_t columns = 0;
  for (size_t i = 0; i < at && i < line.size(); ++i) {
    const unsigned char byte = static_cast<unsigned char>(line[i]);
    if ((byte & 0xC0) == 0x80) continue;  // continues a character
    columns += byte >= 0xE0 ? 2 : 1;
  }
  return columns;
}

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
  EXPECT_EQ(instances.Cell(0, "OUTCOME"), "CONFIRMED");
  Result confirmed = Run({"--as", "bob.zhang", "instance", "list", "--outcome", "CONFIRMED"});
  ParsedTable by_outcome(confirmed.out);
  ASSERT_EQ(by_outcome.size(), 1u) << confirmed.out;
  EXPECT_EQ(by_outcome.Cell(0, "ID"), id);
  Result dismissed = Run({"--as", "bob.zhang", "instance", "list", "--outcome", "DISMISSED"});
  Ok(dismissed);
  EXPECT_EQ(ParsedTable(dismissed.out).size(), 0u) << dismissed.out;
  Result shown = Run({"--as", "bob.zhang", "instance", "get", id});
  EXPECT_THAT(shown.out, HasSubstr("CONFIRMED"));
}

// A seller case worked with typed results given as name=value: a BOOL at
// triage, a NUMBER rating at close.
TEST_F(CliTest, TaskResultsAsNameValuePairs) {
  Result started = Run({"--as", "sara.lin", "-o", "json", "instance", "start", "seller-escalation",
                        "--form", "seller_id=S-CLI-1", "--form", "issue_type=payment", "--form",
                        "description=payout held since Monday"});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();
  const std::string triage = InboxTask("tom.ren", id).id();
  Ok(Run({"--as", "tom.ren", "task", "claim", triage}));
  Result unknown = Run({"--as", "tom.ren", "task", "complete", triage, "--result", "colour=red"});
  EXPECT_EQ(unknown.exit_code, 64 + 3) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("result.colour"));
  Ok(Run({"--as", "tom.ren", "task", "complete", triage, "--result", "needs_vendor=false"}));
  const std::string resolution = InboxTask("tom.ren", id).id();
  Ok(Run({"--as", "tom.ren", "task", "claim", resolution}));
  Ok(Run({"--as", "tom.ren", "task", "complete", resolution, "--comment", "payout released"}));
  const std::string close = InboxTask("tom.ren", id).id();
  Ok(Run({"--as", "tom.ren", "task", "claim", close}));
  Result too_high = Run({"--as", "tom.ren", "task", "complete", close, "--result", "csat=6"});
  EXPECT_EQ(too_high.exit_code, 64 + 3) << too_high.err;
  Ok(Run({"--as", "tom.ren", "task", "complete", close, "--result", "csat=5"}));
  auto view = Json<v1::InstanceResponse>(
      Run({"--as", "sara.lin", "-o", "json", "instance", "get", id})).instance();
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "RESOLVED_FIRST_TIME");
  EXPECT_EQ(view.form().fields().at("csat").number_value(), 5);
  EXPECT_FALSE(view.form().fields().at("needs_vendor").bool_value());
}

TEST_F(CliTest, AuditVerifyFindsATrailCutShort) {
  const std::string kept = StartDealerClaim("D-7001");
  const std::string cut = StartDealerClaim("D-7002");
  Result clean = Run({"--as", "olivia.ke", "audit", "verify"});
  Ok(clean);
  EXPECT_THAT(clean.out, HasSubstr("2 instance(s) checked, 0 with a broken trail"));
  Ok(Run({"--as", "olivia.ke", "instance", "history", cut}));

  // Someone with the database file removes the last event of one trail.
  server_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "signoff.db").c_str(), &db), SQLITE_OK);
  const std::string remove_last = absl::StrCat(
      "DELETE FROM events WHERE instance_id = '", cut,
      "' AND instance_seq = (SELECT MAX(instance_seq) FROM events WHERE instance_id = '", cut,
      "')");
  ASSERT_EQ(sqlite3_exec(db, remove_last.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  StartServer({});

  Result history = Run({"--as", "olivia.ke", "instance", "history", cut});
  EXPECT_EQ(history.exit_code, 1) << history.out << history.err;
  EXPECT_THAT(history.out, HasSubstr("HASH CHAIN BROKEN"));
  EXPECT_THAT(history.err, HasSubstr("does not verify"));
  Ok(Run({"--as", "olivia.ke", "instance", "history", kept}));

  Result audit = Run({"--as", "olivia.ke", "audit", "verify"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("2 instance(s) checked, 1 with a broken trail"));
  ParsedTable broken(audit.out);
  EXPECT_EQ(broken.Cell(0, "INSTANCE"), cut);
  EXPECT_EQ(broken.Cell(0, "TRAIL"), "BROKEN");
  EXPECT_THAT(audit.out, Not(HasSubstr(kept)));
}

TEST_F(CliTest, AuditAdminLogShowsWhoChangedWhatAndChecksTheChain) {
  // signoffd's start-up: the demo organisation, the calendar, then the nine
  // definitions, by file name.
  Result startup = Run({"--as", "olivia.ke", "audit", "admin-log"});
  Ok(startup);
  ParsedTable table(startup.out);
  EXPECT_EQ(table.Cell(0, "SEQ"), "1");
  EXPECT_EQ(table.Cell(0, "ACTOR"), "system");
  EXPECT_EQ(table.Cell(0, "ACTION"), "directory_seeded");
  EXPECT_EQ(table.Cell(1, "ACTION"), "calendar_published");
  EXPECT_EQ(table.Cell(1, "TARGET"), "cn-mainland");
  EXPECT_EQ(table.Cell(2, "TARGET"), "dealer-application");
  EXPECT_THAT(table.Cell(2, "DETAIL"), HasSubstr("from file:dealer-application.yaml"));
  EXPECT_EQ(table.Cell(4, "TARGET"), "loyalty-scheme");
  EXPECT_EQ(table.Cell(5, "TARGET"), "merchant-onboarding");
  EXPECT_EQ(table.Cell(7, "TARGET"), "probation-review");
  EXPECT_EQ(table.Cell(8, "TARGET"), "purchase-programme");
  EXPECT_EQ(table.Cell(9, "TARGET"), "quota-monitoring");
  EXPECT_EQ(table.Cell(10, "TARGET"), "seller-escalation");
  EXPECT_THAT(startup.out, HasSubstr("11 admin event(s) shown of 11; hash chain verified"));

  const std::string org = File("new-user.yaml", "users: [{id: ada.audit, department: compliance, "
                                                "manager: nina.guo}]\n");
  Ok(Run({"--as", "carl.yuan", "directory", "import", org}));
  Result added = Run({"--as", "olivia.ke", "-o", "json", "audit", "admin-log", "--after", "11"});
  Ok(added);
  auto log = Json<v1::ListAdminEventsResponse>(added);
  ASSERT_EQ(log.events_size(), 1);
  EXPECT_EQ(log.events(0).seq(), 12);
  EXPECT_EQ(log.events(0).actor(), "carl.yuan");
  EXPECT_EQ(log.events(0).action(), "users_upserted");
  EXPECT_EQ(log.events(0).target(), "ada.audit");
  EXPECT_EQ(log.events(0).users_upserted().users(0).manager(), "nina.guo");
  EXPECT_TRUE(log.chain_verified());
  EXPECT_EQ(log.event_count(), 12);
  EXPECT_EQ(log.head_hash(), log.events(0).hash());

  auto window = Json<v1::ListAdminEventsResponse>(
      Run({"--as", "olivia.ke", "-o", "json", "audit", "admin-log", "--after", "2", "--limit",
           "3"}));
  ASSERT_EQ(window.events_size(), 3);
  EXPECT_EQ(window.events(0).seq(), 3);
  EXPECT_EQ(window.next_after_seq(), 5);
  EXPECT_TRUE(window.chain_verified());

  // Administrators make the changes the trail records; they cannot read it.
  EXPECT_EQ(Run({"--as", "carl.yuan", "audit", "admin-log"}).exit_code, 64 + 7);
  EXPECT_EQ(Run({"--as", "bob.zhang", "audit", "admin-log"}).exit_code, 64 + 7);
  EXPECT_EQ(Run({"audit", "admin-log"}).exit_code, 64 + 16);
  EXPECT_EQ(Run({"--as", "olivia.ke", "audit", "admin-log", "--limit", "some"}).exit_code, 2);
  EXPECT_EQ(Run({"--as", "olivia.ke", "audit", "admin-log", "--after=-1"}).exit_code, 2);

  // Someone with the database file removes the last admin event; a restart
  // that changes nothing records nothing over it.
  server_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "signoff.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM admin_events WHERE seq = 12", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  StartServer({});
  Result broken = Run({"--as", "olivia.ke", "audit", "admin-log"});
  EXPECT_EQ(broken.exit_code, 1) << broken.out << broken.err;
  EXPECT_THAT(broken.out, HasSubstr("11 admin event(s) shown of 12; HASH CHAIN BROKEN"));
  EXPECT_THAT(broken.err, HasSubstr("does not verify"));
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
  // The demo organisation's own auditor, and the one just imported.
  ASSERT_EQ(auditors.size(), 2u);
  EXPECT_EQ(auditors.Cell(0, "ID"), "ada.audit");
  EXPECT_EQ(auditors.Cell(1, "ID"), "olivia.ke");

  ParsedTable definitions(Run({"--as", "bob.zhang", "definition", "list"}).out);
  ASSERT_EQ(definitions.size(), 9u);
  EXPECT_EQ(definitions.Cell(0, "KEY"), "dealer-application");
  EXPECT_EQ(definitions.Cell(0, "LATEST"), "1");
  const std::string shipped =
      std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/dealer-application.yaml";
  // The shipped file unchanged is the version already published.
  Result republished = Run({"--as", "carl.yuan", "-o", "json", "definition", "publish", shipped});
  Ok(republished);
  EXPECT_EQ(Json<v1::PublishDefinitionResponse>(republished).published().version(), 1);
  EXPECT_TRUE(Json<v1::PublishDefinitionResponse>(republished).unchanged());
  std::ifstream shipped_in(shipped);
  std::stringstream shipped_text;
  shipped_text << shipped_in.rdbuf();
  const std::string renamed = File("renamed.yaml",
      absl::StrReplaceAll(shipped_text.str(), {{"name: Dealer special-sales application",
                                                "name: Dealer special-sales application (v2)"}}));
  Result changed = Run({"--as", "carl.yuan", "definition", "publish", renamed});
  Ok(changed);
  EXPECT_THAT(changed.out, HasSubstr("published dealer-application version 2 from " + renamed));
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

TEST_F(CliTest, CalendarsPublishListAndGet) {
  Result listed = Run({"--as", "bob.zhang", "calendar", "list"});
  Ok(listed);
  ParsedTable calendars(listed.out);
  const int row = RowWhere(calendars, "NAME", "cn-mainland");
  ASSERT_GE(row, 0) << listed.out;
  EXPECT_EQ(calendars.Cell(row, "VERSION"), "1");
  EXPECT_EQ(calendars.Cell(row, "TIME ZONE"), "Asia/Shanghai");
  EXPECT_NE(calendars.Cell(row, "PUBLISHED"), "-");

  Result json = Run({"--as", "bob.zhang", "-o", "json", "calendar", "get", "cn-mainland"});
  Ok(json);
  auto got = Json<v1::GetCalendarResponse>(json);
  EXPECT_EQ(got.published().name(), "cn-mainland");
  EXPECT_EQ(got.published().version(), 1);
  EXPECT_EQ(got.published().calendar().time_zone(), "Asia/Shanghai");
  ASSERT_GT(got.published().calendar().years_size(), 0);
  EXPECT_EQ(got.published().calendar().years(0).holidays(0), "2026-01-01");

  Result shown = Run({"--as", "bob.zhang", "calendar", "get", "cn-mainland@1"});
  Ok(shown);
  EXPECT_THAT(shown.out, HasSubstr("Time zone:     Asia/Shanghai\n"));
  EXPECT_THAT(shown.out, HasSubstr("Working hours: 09:00-12:00, 13:00-18:00\n"));
  ParsedTable days(shown.out.substr(shown.out.find("DATE")));
  EXPECT_EQ(days.Cell(0, "DATE"), "2026-01-01");
  EXPECT_EQ(days.Cell(0, "KIND"), "holiday");
  EXPECT_EQ(Run({"calendar", "get", "cn-mainland@zero"}).exit_code, 2);
  Result missing = Run({"--as", "bob.zhang", "calendar", "get", "nowhere"});
  EXPECT_EQ(missing.exit_code, 64 + 5) << missing.err;

  // Every problem of a bad file comes back, one line each.
  const std::string bad = File("bad-calendar.yaml",
                               "name: broken\nyears:\n  - year: 2026\n    holidays: [\"2026-02-30\"]\n");
  Result rejected = Run({"--as", "carl.yuan", "calendar", "publish", bad});
  EXPECT_EQ(rejected.exit_code, 64 + 3) << rejected.err;
  EXPECT_THAT(rejected.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(rejected.err, HasSubstr("\n  calendar.time_zone: "));
  EXPECT_THAT(rejected.err, HasSubstr("\n  calendar.years[0].holidays[0]: '2026-02-30' is not a date"));
  EXPECT_THAT(rejected.out, Not(HasSubstr("published")));

  const std::string good = File("hk.yaml", "name: hk-test\ntime_zone: Asia/Hong_Kong\n"
                                           "years: [{year: 2026, holidays: [\"2026-12-25\"]}]\n");
  Result denied = Run({"--as", "bob.zhang", "calendar", "publish", good});
  EXPECT_EQ(denied.exit_code, 64 + 7) << denied.err;
  Result published = Run({"--as", "carl.yuan", "calendar", "publish", good});
  Ok(published);
  EXPECT_THAT(published.out, HasSubstr("published calendar hk-test version 1 from " + good));
  const std::string shipped =
      std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/calendars/cn-mainland.yaml";
  Result again = Run({"--as", "carl.yuan", "calendar", "publish", shipped});
  Ok(again);
  EXPECT_THAT(again.out, HasSubstr("unchanged: calendar cn-mainland version 1"));
  Result republished = Run({"--as", "carl.yuan", "calendar", "publish", good});
  EXPECT_THAT(republished.out, HasSubstr("unchanged: calendar hk-test version 1"));
  ParsedTable both(Run({"--as", "bob.zhang", "calendar", "list"}).out);
  EXPECT_EQ(both.size(), 2u);
  EXPECT_EQ(both.Cell(RowWhere(both, "NAME", "hk-test"), "TIME ZONE"), "Asia/Hong_Kong");
  EXPECT_EQ(both.Cell(RowWhere(both, "NAME", "cn-mainland"), "VERSION"), "1");
}

TEST_F(CliTest, ReviewerPausesResumesAndExtendsTheClock) {
  const std::string id = StartDealerClaim("D-100");
  ASSERT_FALSE(id.empty());
  Result inbox = Run({"--as", "tina.luo", "task", "list"});
  Ok(inbox);
  ParsedTable tasks(inbox.out);
  ASSERT_EQ(tasks.size(), 1u) << inbox.out;
  EXPECT_EQ(tasks.Cell(0, "STEP"), "claim-review");
  EXPECT_EQ(tasks.Cell(0, "ASSIGNEE"), "tina.luo");
  const std::string task = tasks.Cell(0, "ID");
  const std::string due = tasks.Cell(0, "DUE");
  EXPECT_THAT(due, ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} CST")) << inbox.out;
  auto before = Json<v1::TaskResponse>(Run({"--as", "tina.luo", "-o", "json", "task", "get", task}));
  EXPECT_TRUE(before.task().has_due_at());
  EXPECT_FALSE(before.task().overdue());

  Result paused = Run({"--as", "tina.luo", "task", "pause", task, "--comment", "waiting for the invoice"});
  Ok(paused);
  EXPECT_THAT(paused.out, HasSubstr("Due:         paused\n"));
  EXPECT_THAT(paused.out, HasSubstr("Clock:       paused since "));
  ParsedTable while_paused(Run({"--as", "tina.luo", "task", "list"}).out);
  EXPECT_EQ(while_paused.Cell(0, "DUE"), "paused");
  Result twice = Run({"--as", "tina.luo", "task", "pause", task});
  EXPECT_EQ(twice.exit_code, 64 + 9) << twice.err;

  Result resumed = Run({"--as", "tina.luo", "-o", "json", "task", "resume", task});
  Ok(resumed);
  auto running = Json<v1::ClockResponse>(resumed);
  EXPECT_FALSE(running.task().clock_paused());
  EXPECT_TRUE(running.clock().has_running_since());
  ASSERT_TRUE(running.clock().has_due_at());

  Result extended = Run({"--as", "tina.luo", "-o", "json", "task", "extend", task, "--by", "1d",
                         "--comment", "dealer on leave"});
  Ok(extended);
  auto later = Json<v1::ClockResponse>(extended);
  EXPECT_GT(later.clock().due_at().seconds(), running.clock().due_at().seconds());
  // One working day of the cn-mainland calendar: eight hours.
  EXPECT_EQ(later.clock().due_offset_seconds() - running.clock().due_offset_seconds(), 8 * 3600);
  EXPECT_EQ(later.task().due_at().seconds(), later.clock().due_at().seconds());

  Result nonsense = Run({"--as", "tina.luo", "task", "extend", task, "--by", "nonsense"});
  EXPECT_EQ(nonsense.exit_code, 2) << nonsense.err;
  EXPECT_THAT(nonsense.err, HasSubstr("--by: 'nonsense' is not a duration such as 2d"));
  EXPECT_EQ(Run({"--as", "tina.luo", "task", "extend", task}).exit_code, 2);
  EXPECT_EQ(Run({"--as", "tina.luo", "task", "extend", task, "--by", "1d", "--until",
                 "2099-01-01T00:00:00Z"}).exit_code, 2);
  EXPECT_EQ(Run({"--as", "tina.luo", "task", "extend", task, "--until", "tomorrow"}).exit_code, 2);
  Result earlier = Run({"--as", "tina.luo", "task", "extend", task, "--until", "2020-01-01T00:00:00Z"});
  EXPECT_EQ(earlier.exit_code, 64 + 3) << earlier.err;
  EXPECT_THAT(earlier.err, HasSubstr("\n  new_due_at: must be later than now"));
  Result stranger = Run({"--as", "bob.zhang", "task", "pause", task});
  EXPECT_EQ(stranger.exit_code, 64 + 7) << stranger.err;

  // Nothing is overdue yet; the table is a header alone.
  Result overdue = Run({"--as", "tina.luo", "task", "list", "--overdue"});
  Ok(overdue);
  EXPECT_EQ(ParsedTable(overdue.out).size(), 0u) << overdue.out;
  EXPECT_THAT(overdue.out, HasSubstr("DUE"));

  // dealer-claim waits for no signal at all.
  Result signal = Run({"--as", "carl.yuan", "instance", "signal", id, "kpi_recovered"});
  EXPECT_EQ(signal.exit_code, 64 + 3) << signal.err;
  EXPECT_THAT(signal.err, HasSubstr("\n  name: definition dealer-claim waits for no signal 'kpi_recovered'"));
}

TEST_F(CliTest, SignalEndsTheRectificationWait) {
  const std::string deadline =
      absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 60), absl::UTCTimeZone());
  const std::string form = File(
      "termination.yaml",
      absl::StrCat("partner_id: P-1001\npartner_name: Swift Logistics\nkpi_period: 2026-Q3\n"
                   "on_time_rate: 0.72\ncancellation_rate: 0.18\n"
                   "breach_summary: On-time rate 72% against 90% agreed\n"
                   "rectification_deadline: ", deadline, "\n"));
  Result started = Run({"--as", "svc-kpi-monitor", "-o", "json", "instance", "start",
                        "partner-termination", "--form-file", form});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();
  ASSERT_FALSE(id.empty());

  // Nothing waits for the signal while the warning is still to be sent.
  Result early = Run({"--as", "svc-kpi-monitor", "instance", "signal", id, "kpi_recovered"});
  EXPECT_EQ(early.exit_code, 64 + 9) << early.err;

  const std::string warning = InboxTask("helen.qin", id).id();
  Ok(Run({"--as", "helen.qin", "task", "claim", warning}));
  Ok(Run({"--as", "helen.qin", "task", "complete", warning, "--comment", "Warning letter sent by courier"}));
  Result waiting = Run({"--as", "svc-kpi-monitor", "-o", "json", "instance", "get", id});
  Ok(waiting);
  auto view = Json<v1::InstanceResponse>(waiting).instance();
  EXPECT_EQ(view.status(), v1::RUNNING);
  EXPECT_THAT(view.active_steps(), ::testing::ElementsAre("rectification"));
  // The wait and when it runs out, in the calendar's zone.
  ASSERT_EQ(view.waits_size(), 1);
  ASSERT_TRUE(view.waits(0).has_due_at());
  Result detail = Run({"--as", "svc-kpi-monitor", "instance", "get", id});
  Ok(detail);
  ASSERT_NE(detail.out.find("\nWaits:\n"), std::string::npos) << detail.out;
  ParsedTable waits(detail.out.substr(detail.out.find("\nWaits:\n") + 8));
  ASSERT_EQ(waits.size(), 1u) << detail.out;
  EXPECT_EQ(waits.Cell(0, "STEP"), "rectification");
  EXPECT_EQ(waits.Cell(0, "SIGNAL"), "kpi_recovered");
  EXPECT_EQ(waits.Cell(0, "DUE"), TimeIn(view.waits(0).due_at(), "Asia/Shanghai"));

  // bob.zhang has no part in the case: to him it does not exist.
  Result denied = Run({"--as", "bob.zhang", "instance", "signal", id, "kpi_recovered"});
  EXPECT_EQ(denied.exit_code, 64 + 5) << denied.err;

  const std::string payload = File("kpis.json", "{\"on_time_rate\": 0.93, \"cancellation_rate\": 0.04}");
  Result signalled = Run({"--as", "svc-kpi-monitor", "-o", "json", "instance", "signal", id,
                          "kpi_recovered", "--payload-file", payload, "--request-id", "kpi-1"});
  Ok(signalled);
  EXPECT_EQ(Json<v1::InstanceResponse>(signalled).instance().status(), v1::APPROVED);
  // The same request id again is the same answer, not a second signal.
  Result repeated = Run({"--as", "svc-kpi-monitor", "instance", "signal", id, "kpi_recovered",
                         "--payload-file", payload, "--request-id", "kpi-1"});
  Ok(repeated);
  EXPECT_THAT(repeated.out, HasSubstr("Status:      APPROVED\n"));

  auto history = Json<v1::GetHistoryResponse>(
      Run({"--as", "svc-kpi-monitor", "-o", "json", "instance", "history", id}));
  int signals = 0;
  for (const auto& event : history.events()) {
    if (!event.has_signal_received()) continue;
    ++signals;
    EXPECT_EQ(event.signal_received().name(), "kpi_recovered");
    EXPECT_EQ(event.signal_received().payload().fields().at("on_time_rate").number_value(), 0.93);
  }
  EXPECT_EQ(signals, 1);
}

TEST_F(CliTest, OverdueAndBreachedAfterTheDeadlinePasses) {
  const std::string id = StartDealerClaim("D-200");
  ASSERT_FALSE(id.empty());
  Result none = Run({"--as", "henry.zhao", "task", "list", "--overdue"});
  Ok(none);
  EXPECT_EQ(ParsedTable(none.out).size(), 0u) << none.out;
  Result unbreached = Run({"--as", "carl.yuan", "instance", "list", "--sla-breached"});
  Ok(unbreached);
  EXPECT_EQ(ParsedTable(unbreached.out).size(), 0u) << unbreached.out;
  const std::string soon = absl::FormatTime(absl::RFC3339_full, absl::Now() + absl::Hours(24 * 14),
                                            absl::UTCTimeZone());
  ParsedTable due_soon(
      Run({"--as", "tina.luo", "task", "list", "--assignee", "tina.luo", "--due-before", soon}).out);
  ASSERT_EQ(due_soon.size(), 1u);
  EXPECT_EQ(due_soon.Cell(0, "STEP"), "claim-review");
  ParsedTable due_long_ago(Run({"--as", "tina.luo", "task", "list", "--assignee", "tina.luo",
                                "--due-before", "2020-01-01T00:00:00Z"}).out);
  EXPECT_EQ(due_long_ago.size(), 0u);
  EXPECT_EQ(Run({"--as", "tina.luo", "task", "list", "--due-before", "soon"}).exit_code, 2);

  // A month later the timeout hands the claim to henry.zhao; it stays
  // pending and overdue.
  StartServer({"--clock-offset", "30d", "--timer-poll", "100ms"});
  std::string task;
  for (int attempt = 0; attempt < 100 && task.empty(); ++attempt) {
    auto overdue = Json<v1::ListTasksResponse>(
        Run({"--as", "henry.zhao", "-o", "json", "task", "list", "--overdue"}));
    for (const auto& found : overdue.tasks()) {
      if (found.instance_id() == id && found.assignee() == "henry.zhao") task = found.id();
    }
    if (task.empty()) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(task.empty()) << "the claim never reached henry.zhao; signoffd log:\n"
                             << ReadWholeFile(dir_ / "signoffd.log");
  Result overdue = Run({"--as", "henry.zhao", "task", "list", "--overdue"});
  Ok(overdue);
  ParsedTable table(overdue.out);
  const int row = RowWhere(table, "ID", task);
  ASSERT_GE(row, 0) << overdue.out;
  EXPECT_EQ(table.Cell(row, "STEP"), "claim-review");
  EXPECT_EQ(table.Cell(row, "STATUS"), "PENDING");
  EXPECT_THAT(table.Cell(row, "DUE"), EndsWith(" (overdue)"));
  Result shown = Run({"--as", "henry.zhao", "task", "get", task});
  EXPECT_THAT(shown.out, HasSubstr("SLA:         breached\n"));

  Result breached = Run({"--as", "carl.yuan", "instance", "list", "--sla-breached"});
  Ok(breached);
  ParsedTable instances(breached.out);
  ASSERT_EQ(instances.size(), 1u) << breached.out;
  EXPECT_EQ(instances.Cell(0, "ID"), id);
  EXPECT_EQ(instances.Cell(0, "SLA"), "breached");
  auto listed = Json<v1::ListInstancesResponse>(
      Run({"--as", "carl.yuan", "-o", "json", "instance", "list", "--sla-breached"}));
  ASSERT_EQ(listed.instances_size(), 1);
  EXPECT_TRUE(listed.instances(0).sla_breached());
}


TEST_F(CliTest, RejectAndReturnAskForAReasonOnlyWhereTheDefinitionListsThem) {
  // dealer-claim lists reject and return reasons: the task shows them.
  const std::string claim = StartDealerClaim("D-300");
  const std::string task = InboxTask("tina.luo", claim).id();
  Result shown = Run({"--as", "tina.luo", "task", "get", task});
  Ok(shown);
  EXPECT_THAT(shown.out, HasSubstr("\nActions:     approve, reject, return, comment, transfer, delegate, "
                                   "cc, remind, pause, resume, extend\n"));
  EXPECT_THAT(shown.out, HasSubstr("\nComment for: reject, return\n"));
  EXPECT_THAT(shown.out, HasSubstr("\nReject with: --reason incomplete_documents, amount_not_supported, "));
  EXPECT_THAT(shown.out, HasSubstr("\nReturn with: --reason missing_invoice, wrong_amount, "));
  EXPECT_THAT(shown.out, HasSubstr("\nReturn to:   the applicant\n"));

  // A missing or unknown code is a usage error naming the codes, and
  // nothing is sent.
  Result no_reason = Run({"--as", "tina.luo", "task", "reject", task, "--comment", "no invoice"});
  EXPECT_EQ(no_reason.exit_code, 2) << no_reason.err;
  EXPECT_THAT(no_reason.err, HasSubstr("a reject needs --reason, one of dealer-claim's reject reasons:"));
  EXPECT_THAT(no_reason.err, HasSubstr("\n  incomplete_documents  Documents missing or incomplete\n"));
  EXPECT_THAT(no_reason.err, HasSubstr("\n  data_mismatch "));
  Result unknown = Run({"--as", "tina.luo", "task", "reject", task, "--reason", "too_expensive",
                        "--comment", "no"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("--reason too_expensive is not one of dealer-claim's reject reasons:"));
  EXPECT_THAT(unknown.err, HasSubstr("\n  duplicate_claim "));
  Result return_without = Run({"--as", "tina.luo", "task", "return", task, "--comment", "fix it"});
  EXPECT_EQ(return_without.exit_code, 2) << return_without.err;
  EXPECT_THAT(return_without.err, HasSubstr("a return needs --reason, one of dealer-claim's return reasons:"));
  EXPECT_THAT(return_without.err, HasSubstr("\n  missing_invoice "));
  // A reject reason is no return reason.
  Result crossed = Run({"--as", "tina.luo", "task", "return", task, "--reason", "data_mismatch",
                        "--comment", "fix it"});
  EXPECT_EQ(crossed.exit_code, 2) << crossed.err;
  EXPECT_THAT(crossed.err, HasSubstr("\n  wrong_amount "));
  EXPECT_EQ(Json<v1::TaskResponse>(Run({"--as", "tina.luo", "-o", "json", "task", "get", task})).task().status(),
            v1::PENDING);

  Ok(Run({"--as", "tina.luo", "task", "return", task, "--reason", "missing_invoice", "--comment",
          "attach the invoice"}));
  auto returned = Json<v1::InstanceResponse>(Run({"--as", "bob.zhang", "-o", "json", "instance", "get", claim}));
  EXPECT_EQ(returned.instance().status(), v1::RETURNED);
  EXPECT_EQ(returned.instance().last_return().reason(), "missing_invoice");
  Result detail = Run({"--as", "bob.zhang", "instance", "get", claim});
  Ok(detail);
  EXPECT_THAT(detail.out, HasSubstr("\nLast return:\n"
                                    "  By:        tina.luo\n"
                                    "  At:        " + TimeIn(returned.instance().last_return().at(), "Asia/Shanghai") +
                                    "\n  From step: claim-review\n"
                                    "  To:        the applicant\n"
                                    "  Reason:    missing_invoice\n"
                                    "  Comment:   attach the invoice\n"));

  // quick-note lists no reasons: a reject or return goes through without
  // one, and a made-up one is refused.
  PublishQuickNote();
  const std::string note = StartQuickNote("Printer paper for the east office");
  const std::string sign = InboxTask("alice.chen", note).id();
  Result quick = Run({"--as", "alice.chen", "task", "get", sign});
  EXPECT_THAT(quick.out, HasSubstr("\nActions:     approve, reject, return, comment, remind\n"));
  EXPECT_THAT(quick.out, Not(HasSubstr("Reject with:")));
  Result made_up = Run({"--as", "alice.chen", "task", "reject", sign, "--reason", "too_expensive",
                        "--comment", "no"});
  EXPECT_EQ(made_up.exit_code, 2) << made_up.err;
  EXPECT_THAT(made_up.err, HasSubstr("quick-note lists no reject reasons; leave --reason out"));
  Result rejected = Run({"--as", "alice.chen", "task", "reject", sign, "--comment", "use the stock room"});
  Ok(rejected);
  EXPECT_THAT(rejected.out, HasSubstr("REJECT recorded on " + sign));
  Result finished = Run({"--as", "bob.zhang", "instance", "get", note});
  EXPECT_THAT(finished.out, HasSubstr("\nStatus:      REJECTED\n"));
  EXPECT_THAT(finished.out, HasSubstr("\nComment:     use the stock room\n"));

  const std::string second = StartQuickNote("Toner for the east office");
  Ok(Run({"--as", "alice.chen", "task", "return", InboxTask("alice.chen", second).id(), "--comment",
          "which printer?"}));
  EXPECT_EQ(Json<v1::InstanceResponse>(Run({"--as", "bob.zhang", "-o", "json", "instance", "get", second}))
                .instance()
                .status(),
            v1::RETURNED);
}

TEST_F(CliTest, TimesShowTheirZoneTheCalendarsByDefault) {
  // dealer-claim counts on cn-mainland, whose zone is Asia/Shanghai.
  const std::string claim = StartDealerClaim("D-400");
  const v1::Task task = InboxTask("tina.luo", claim);
  ASSERT_TRUE(task.has_due_at());
  ParsedTable inbox(Run({"--as", "tina.luo", "task", "list"}).out);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox.Cell(0, "DUE"), TimeIn(task.due_at(), "Asia/Shanghai"));
  EXPECT_THAT(inbox.Cell(0, "DUE"), EndsWith(" CST"));
  EXPECT_EQ(inbox.Cell(0, "CREATED"), TimeIn(task.created_at(), "Asia/Shanghai"));

  ParsedTable in_utc(Run({"--as", "tina.luo", "--tz", "UTC", "task", "list"}).out);
  EXPECT_EQ(in_utc.Cell(0, "DUE"), TimeIn(task.due_at(), "UTC"));
  EXPECT_THAT(in_utc.Cell(0, "DUE"), EndsWith(" UTC"));
  ParsedTable from_env(RunWithEnv({"SIGNOFF_TZ=Asia/Tokyo"}, {"--as", "tina.luo", "task", "list"}).out);
  EXPECT_EQ(from_env.Cell(0, "DUE"), TimeIn(task.due_at(), "Asia/Tokyo"));
  ParsedTable offset(Run({"--as", "tina.luo", "--tz", "+05:30", "task", "list"}).out);
  EXPECT_EQ(offset.Cell(0, "DUE"),
            absl::FormatTime("%Y-%m-%d %H:%M +05:30", absl::FromUnixSeconds(task.due_at().seconds()),
                             absl::FixedTimeZone(5 * 3600 + 1800)));

  Result unknown = Run({"--as", "tina.luo", "--tz", "Mars/Olympus_Mons", "task", "list"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("unknown time zone 'Mars/Olympus_Mons'"));
  EXPECT_TRUE(unknown.out.empty()) << unknown.out;
  EXPECT_EQ(RunWithEnv({"SIGNOFF_TZ=Nowhere"}, {"--as", "tina.luo", "task", "list"}).exit_code, 2);

  // Detail views and the trail too.
  Result shown = Run({"--as", "tina.luo", "task", "get", task.id()});
  EXPECT_THAT(shown.out, HasSubstr("\nCreated:     " + TimeIn(task.created_at(), "Asia/Shanghai") + "\n"));
  EXPECT_THAT(shown.out, HasSubstr("\nDue:         " + TimeIn(task.due_at(), "Asia/Shanghai") + "\n"));
  auto view = Json<v1::InstanceResponse>(Run({"--as", "bob.zhang", "-o", "json", "instance", "get", claim}));
  Result detail = Run({"--as", "bob.zhang", "instance", "get", claim});
  EXPECT_THAT(detail.out, HasSubstr("\nCreated:     " + TimeIn(view.instance().created_at(), "Asia/Shanghai")));
  EXPECT_THAT(Run({"--as", "bob.zhang", "--tz", "UTC", "instance", "get", claim}).out,
              HasSubstr("\nCreated:     " + TimeIn(view.instance().created_at(), "UTC")));
  Result history = Run({"--as", "bob.zhang", "instance", "history", claim});
  ParsedTable trail(history.out.substr(0, history.out.rfind("hash chain")));
  EXPECT_EQ(trail.Cell(0, "TIME"), TimeIn(view.instance().created_at(), "Asia/Shanghai"));

  // probation-review names no calendar: the local zone, whatever it is.
  const std::string form = File("probation.yaml", "employee: bob.zhang\ngrade: P5\nprobation_end: 2026-03-31\n"
                                                  "self_assessment: Closed forty dealer cases this quarter.\n"
                                                  "recommendation: confirm\n");
  Result started = Run({"--as", "bob.zhang", "-o", "json", "instance", "start", "probation-review",
                        "--form-file", form});
  Ok(started);
  const auto probation = Json<v1::InstanceResponse>(started).instance();
  Result local = RunWithEnv({"TZ=America/New_York"}, {"--as", "bob.zhang", "instance", "get", probation.id()});
  EXPECT_THAT(local.out, HasSubstr("\nCreated:     " + TimeIn(probation.created_at(), "America/New_York") + "\n"));

  // A calendar's own times are in its zone.
  ParsedTable calendars(Run({"--as", "bob.zhang", "calendar", "list"}).out);
  EXPECT_THAT(calendars.Cell(RowWhere(calendars, "NAME", "cn-mainland"), "PUBLISHED"), EndsWith(" CST"));
}

TEST_F(CliTest, AListLooksUpEachDefinitionAndTheCalendarsOnce) {
  for (const std::string dealer : {"D-501", "D-502", "D-503"}) StartDealerClaim(dealer);
  const int definitions = CallsLogged("DefinitionService/GetDefinition");
  const int calendars = CallsLogged("CalendarService/ListCalendars");
  ParsedTable inbox(Run({"--as", "tina.luo", "task", "list"}).out);
  ASSERT_EQ(inbox.size(), 3u);
  for (size_t row = 0; row < inbox.size(); ++row) EXPECT_THAT(inbox.Cell(row, "DUE"), EndsWith(" CST"));
  EXPECT_EQ(CallsLogged("DefinitionService/GetDefinition"), definitions + 1);
  EXPECT_EQ(CallsLogged("CalendarService/ListCalendars"), calendars + 1);

  ParsedTable instances(Run({"--as", "carl.yuan", "instance", "list"}).out);
  ASSERT_EQ(instances.size(), 3u);
  EXPECT_EQ(CallsLogged("DefinitionService/GetDefinition"), definitions + 2);
  EXPECT_EQ(CallsLogged("CalendarService/ListCalendars"), calendars + 2);

  // JSON has no times to show in a zone, and --tz needs no lookup.
  Ok(Run({"--as", "tina.luo", "-o", "json", "task", "list"}));
  Ok(Run({"--as", "tina.luo", "--tz", "UTC", "task", "list"}));
  EXPECT_EQ(CallsLogged("DefinitionService/GetDefinition"), definitions + 2);
  EXPECT_EQ(CallsLogged("CalendarService/ListCalendars"), calendars + 2);
}

TEST_F(CliTest, FormTextAndCommentsPrintAsPlainText) {
  PublishQuickNote();
  const std::string note = "经销商索赔：十辆车\n第二行 \"quoted\"";
  const std::string id = StartQuickNote(note);
  Result shown = Run({"--as", "bob.zhang", "instance", "get", id});
  Ok(shown);
  EXPECT_THAT(shown.out, HasSubstr("\n  copies: 12\n"
                                   "  note: 经销商索赔：十辆车\n"
                                   "        第二行 \"quoted\"\n"
                                   "  tags: urgent, east\n"));
  EXPECT_THAT(shown.out, Not(HasSubstr("\\u")));
  EXPECT_THAT(shown.out, Not(HasSubstr("\\n")));
  // JSON stays JSON.
  Result json = Run({"--as", "bob.zhang", "-o", "json", "instance", "get", id});
  EXPECT_EQ(Json<v1::InstanceResponse>(json).instance().form().fields().at("note").string_value(), note);

  const std::string task = InboxTask("alice.chen", id).id();
  Ok(Run({"--as", "alice.chen", "task", "approve", task, "--comment", "同意。\n请财务跟进"}));
  Result decided = Run({"--as", "alice.chen", "task", "get", task});
  EXPECT_THAT(decided.out, HasSubstr("\nComment:     同意。\n"
                                     "             请财务跟进\n"));
  // In a table a comment stays on its row.
  Result history = Run({"--as", "bob.zhang", "instance", "history", id});
  EXPECT_THAT(history.out, HasSubstr(" APPROVE comment: 同意。 \u21b5 请财务跟进\n"));
  EXPECT_THAT(history.out, Not(HasSubstr("\"同意")));

  // Wide characters take two columns, and the columns still line up.
  Result definitions = Run({"--as", "bob.zhang", "definition", "list"});
  const std::string header = LineStarting(definitions.out, "KEY");
  const std::string row = LineStarting(definitions.out, "quick-note");
  ASSERT_FALSE(row.empty()) << definitions.out;
  EXPECT_THAT(row, HasSubstr("快速便条"));
  EXPECT_EQ(ColumnsBefore(row, row.find("  1  ") + 2), ColumnsBefore(header, header.find("LATEST")))
      << definitions.out;
}

TEST_F(CliTest, AWaitIsPausedResumedAndExtendedFromTheCli) {
  const std::string definition = File("watch.yaml", R"(key: kpi-watch
name: KPI watch
calendar: cn-mainland
policies: {admin_role: workflow-admin}
steps:
  - id: hold
    wait: {signal: kpi_recovered, duration: {days: 30}, on_timeout: done}
    actions: {allowed: [PAUSE_CLOCK, EXTEND_DEADLINE]}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  Ok(Run({"--as", "carl.yuan", "definition", "publish", definition}));
  Result started = Run({"--as", "bob.zhang", "-o", "json", "instance", "start", "kpi-watch"});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();

  Result denied = Run({"--as", "bob.zhang", "instance", "wait", "pause", id, "hold"});
  EXPECT_EQ(denied.exit_code, 64 + 7) << denied.err;
  Result paused = Run({"--as", "carl.yuan", "instance", "wait", "pause", id, "hold",
                       "--comment", "audit under way"});
  Ok(paused);
  EXPECT_THAT(paused.out, HasSubstr("paused ("));
  EXPECT_THAT(paused.out, HasSubstr(" left)"));
  Result again = Run({"--as", "carl.yuan", "instance", "wait", "pause", id, "hold"});
  EXPECT_EQ(again.exit_code, 64 + 9) << again.err;
  Ok(Run({"--as", "carl.yuan", "instance", "wait", "resume", id, "hold"}));
  Result before = Run({"--as", "carl.yuan", "-o", "json", "instance", "get", id});
  const auto due_before = Json<v1::InstanceResponse>(before).instance().waits(0).due_at();
  Result extended = Run({"--as", "carl.yuan", "-o", "json", "instance", "wait", "extend", id,
                         "hold", "--by", "2d"});
  Ok(extended);
  EXPECT_EQ(Json<v1::ClockResponse>(extended).wait().due_at().seconds(),
            due_before.seconds() + 2 * 24 * 3600);
  Result neither = Run({"--as", "carl.yuan", "instance", "wait", "extend", id, "hold"});
  EXPECT_EQ(neither.exit_code, 2) << neither.err;
}

// A merchant onboarding worked by its two job workers through the CLI: the
// risk check fails into an incident that an administrator retries, and the
// high-risk result routes the merchant to the risk committee.
TEST_F(CliTest, JobWorkersAndIncidentsThroughTheCli) {
  Result started = Run({"--as", "kevin.du", "-o", "json", "instance", "start",
                        "merchant-onboarding", "--form", "merchant_id=M-CLI-1", "--form",
                        "merchant_name=Tea House", "--form", "business_type=retail", "--form",
                        "expected_monthly_volume=1000"});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();

  auto documents = Json<v1::ActivateJobsResponse>(
      Run({"--as", "svc-doc-check", "-o", "json", "job", "activate", "--type", "doc-check",
           "--worker", "doc-1"}));
  ASSERT_EQ(documents.jobs_size(), 1);
  EXPECT_EQ(documents.jobs(0).instance_id(), id);
  Result bad_result = Run({"--as", "svc-doc-check", "job", "complete", documents.jobs(0).key(),
                           "--result", "{documents_verified: true, colour: red}"});
  EXPECT_EQ(bad_result.exit_code, 64 + 3) << bad_result.err;
  EXPECT_THAT(bad_result.err, HasSubstr("\n  result.colour: "));
  Result checked = Run({"--as", "svc-doc-check", "job", "complete", documents.jobs(0).key(),
                        "--result", "{\"documents_verified\": true}"});
  Ok(checked);
  EXPECT_THAT(checked.out, HasSubstr("at risk-check"));

  Result leased = Run({"--as", "svc-risk-engine", "job", "activate", "--type", "risk-check",
                       "--worker", "risk-1", "--lease", "2m"});
  Ok(leased);
  ParsedTable jobs(leased.out);
  ASSERT_EQ(jobs.size(), 1u) << leased.out;
  EXPECT_EQ(jobs.Cell(0, "TYPE"), "risk-check");
  EXPECT_EQ(jobs.Cell(0, "INSTANCE"), id);
  const std::string key = jobs.Cell(0, "KEY");
  EXPECT_EQ(Run({"--as", "svc-risk-engine", "job", "fail", key}).exit_code, 2);
  EXPECT_EQ(Run({"--as", "svc-risk-engine", "job", "fail", key, "--retries", "0", "--backoff",
                 "soon"}).exit_code,
            2);
  Result failed = Run({"--as", "svc-risk-engine", "job", "fail", key, "--retries", "0",
                       "--message", "bureau down"});
  Ok(failed);
  EXPECT_THAT(failed.out, HasSubstr("raised: bureau down"));

  Result listed = Run({"--as", "carl.yuan", "incident", "list", "--definition",
                       "merchant-onboarding"});
  Ok(listed);
  ParsedTable incidents(listed.out);
  ASSERT_EQ(incidents.size(), 1u) << listed.out;
  EXPECT_EQ(incidents.Cell(0, "STATUS"), "OPEN");
  EXPECT_EQ(incidents.Cell(0, "MESSAGE"), "bureau down");
  const std::string incident = incidents.Cell(0, "ID");
  EXPECT_EQ(Run({"--as", "kevin.du", "incident", "list"}).exit_code, 64 + 7);
  EXPECT_EQ(Run({"--as", "kevin.du", "incident", "retry", incident}).exit_code, 64 + 7);
  Result retried = Run({"--as", "carl.yuan", "incident", "retry", incident, "--retries", "2"});
  Ok(retried);
  EXPECT_THAT(retried.out, HasSubstr("retried"));

  auto again = Json<v1::ActivateJobsResponse>(
      Run({"--as", "svc-risk-engine", "-o", "json", "job", "activate", "--type", "risk-check",
           "--worker", "risk-1", "--wait", "2s"}));
  ASSERT_EQ(again.jobs_size(), 1);
  EXPECT_EQ(again.jobs(0).retries_left(), 2);
  EXPECT_EQ(Run({"--as", "svc-risk-engine", "job", "complete", key, "--result",
                 "{risk_level: high}"}).exit_code,
            64 + 9);
  Result routed = Run({"--as", "svc-risk-engine", "job", "complete", again.jobs(0).key(),
                       "--result", "{risk_level: high, score: 90}"});
  Ok(routed);
  EXPECT_THAT(routed.out, HasSubstr("at risk-committee"));
  auto all = Json<v1::ListIncidentsResponse>(
      Run({"--as", "olivia.ke", "-o", "json", "incident", "list", "--all"}));
  ASSERT_EQ(all.incidents_size(), 1);
  EXPECT_EQ(all.incidents(0).resolution(), "retried");
  EXPECT_EQ(all.incidents(0).resolved_by(), "carl.yuan");
}

// signoffctl watch with a cursor file: a first run stops after three
// items, signoffd restarts, more commits land, and a second run resumes
// from the file. Together the two runs show exactly what one run from the
// start shows.
TEST_F(CliTest, WatchResumesFromItsCursorFileAcrossARestart) {
  auto start = [this](const std::string& merchant) {
    Ok(Run({"--as", "kevin.du", "instance", "start", "merchant-onboarding", "--form",
            "merchant_id=" + merchant, "--form", "merchant_name=Tea House", "--form",
            "business_type=retail", "--form", "expected_monthly_volume=1000"}));
  };
  start("M-W-1");
  const std::string cursor_file = (dir_ / "feed.cursor").string();
  auto cursors = [](const std::string& lines) {
    std::vector<int64_t> seen;
    for (const auto& line : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
      v1::WatchEventsResponse item;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &item).ok())
          << line;
      EXPECT_FALSE(item.has_heartbeat());
      seen.push_back(item.cursor());
    }
    return seen;
  };
  Result first = Run({"--as", "olivia.ke", "-o", "json", "watch", "--cursor-file", cursor_file,
                      "--count", "3"});
  Ok(first);
  const std::vector<int64_t> before = cursors(first.out);
  ASSERT_EQ(before.size(), 3u);
  std::ifstream saved(cursor_file);
  int64_t saved_cursor = 0;
  saved >> saved_cursor;
  EXPECT_EQ(saved_cursor, before.back());

  StartServer({});
  start("M-W-2");
  Result second = Run({"--as", "olivia.ke", "-o", "json", "watch", "--cursor-file", cursor_file,
                       "--catch-up"});
  Ok(second);
  std::vector<int64_t> resumed = before;
  const std::vector<int64_t> after_restart = cursors(second.out);
  // The second start's events at least, all after the saved cursor.
  ASSERT_GE(after_restart.size(), 3u);
  EXPECT_GT(after_restart.front(), saved_cursor);
  resumed.insert(resumed.end(), after_restart.begin(), after_restart.end());
  Result whole = Run({"--as", "olivia.ke", "-o", "json", "watch", "--after", "0", "--catch-up"});
  Ok(whole);
  EXPECT_EQ(resumed, cursors(whole.out));
  EXPECT_TRUE(std::is_sorted(resumed.begin(), resumed.end()));

  // The table names the type, the instance and the definition; a person is
  // not a watcher.
  Result table = Run({"--as", "olivia.ke", "watch", "--after", "0", "--count", "1"});
  Ok(table);
  EXPECT_THAT(table.out, HasSubstr("instance_started"));
  EXPECT_THAT(table.out, HasSubstr("merchant-onboarding"));
  Result refused = Run({"--as", "kevin.du", "watch", "--catch-up"});
  EXPECT_EQ(refused.exit_code, 64 + 7) << refused.out << refused.err;
  Result bad = Run({"--as", "olivia.ke", "watch", "--kind", "no-such-kind", "--catch-up"});
  EXPECT_EQ(bad.exit_code, 64 + 3) << bad.err;

}

// A task assigned through the CLI shows in the assignee's notifications,
// unread until marked.
TEST_F(CliTest, NotificationsListAndMarkRead) {
  Result started = Run({"--as", "kevin.du", "-o", "json", "instance", "start",
                        "merchant-onboarding", "--form", "merchant_id=M-N-1", "--form",
                        "merchant_name=Tea House", "--form", "business_type=retail", "--form",
                        "expected_monthly_volume=1000"});
  Ok(started);
  auto documents = Json<v1::ActivateJobsResponse>(
      Run({"--as", "svc-doc-check", "-o", "json", "job", "activate", "--type", "doc-check",
           "--worker", "doc-1"}));
  ASSERT_EQ(documents.jobs_size(), 1);
  Ok(Run({"--as", "svc-doc-check", "job", "throw", documents.jobs(0).key(), "--code",
          "documents-missing"}));
  // The document chase is offered to merchant operations, a candidate group.
  Result listed = Run({"--as", "mia.xu", "-o", "json", "notification", "list", "--unread"});
  Ok(listed);
  auto unread = Json<v1::ListNotificationsResponse>(listed);
  ASSERT_GE(unread.notifications_size(), 1) << listed.out;
  EXPECT_EQ(unread.notifications(0).kind(), v1::TASK_OFFERED);
  Result marked = Run({"--as", "mia.xu", "notification", "read", "--all"});
  Ok(marked);
  EXPECT_THAT(marked.out, HasSubstr(absl::StrCat(unread.unread_count(), " marked read")));
  Result after = Run({"--as", "mia.xu", "notification", "list"});
  Ok(after);
  EXPECT_THAT(after.out, HasSubstr("0 unread"));
  EXPECT_EQ(Run({"--as", "mia.xu", "notification", "read"}).exit_code, 2);
}

// A service account's subscription through the CLI: created from a secret
// file, listed, its (empty) deliveries and replay, deleted; refusals keep
// the house exit codes.
TEST_F(CliTest, WebhookSubscriptionsThroughTheCli) {
  const std::string secret = File("hook.secret", "a-secret-of-thirty-two-bytes-0123\n");
  Result created = Run({"--as", "svc-kpi-monitor", "-o", "json", "webhook", "create", "--url",
                        "http://127.0.0.1:9/hooks", "--secret-file", secret, "--kind",
                        "instance_started", "--definition", "partner-termination",
                        "--max-attempts", "2"});
  Ok(created);
  const v1::Webhook webhook = Json<v1::WebhookResponse>(created).webhook();
  EXPECT_EQ(webhook.owner(), "svc-kpi-monitor");
  EXPECT_EQ(webhook.max_attempts(), 2);
  EXPECT_THAT(created.out, Not(HasSubstr("thirty-two")));

  Result listed = Run({"--as", "svc-kpi-monitor", "-o", "json", "webhook", "list"});
  Ok(listed);
  auto webhooks = Json<v1::ListWebhooksResponse>(listed);
  ASSERT_EQ(webhooks.webhooks_size(), 1);
  EXPECT_EQ(webhooks.webhooks(0).id(), webhook.id());
  EXPECT_EQ(webhooks.webhooks(0).url(), "http://127.0.0.1:9/hooks");
  Result deliveries = Run({"--as", "svc-kpi-monitor", "-o", "json", "webhook", "deliveries",
                           webhook.id(), "--dead"});
  Ok(deliveries);
  EXPECT_EQ(Json<v1::ListDeliveriesResponse>(deliveries).deliveries_size(), 0);

  // A person may not subscribe; a missing secret file is a usage error; an
  // https URL is refused by signoffd.
  EXPECT_EQ(Run({"--as", "kevin.du", "webhook", "create", "--url", "http://127.0.0.1:9/h",
                 "--secret-file", secret})
                .exit_code,
            64 + 7);
  // A definition the owner may not watch is a bad field of the request.
  Result unwatchable = Run({"--as", "svc-kpi-monitor", "webhook", "create", "--url",
                            "http://127.0.0.1:9/h", "--secret-file", secret, "--definition",
                            "dealer-claim"});
  EXPECT_EQ(unwatchable.exit_code, 64 + 3);
  EXPECT_THAT(unwatchable.err, HasSubstr("may not watch"));
  EXPECT_EQ(Run({"--as", "svc-kpi-monitor", "webhook", "create", "--url", "http://127.0.0.1:9/h",
                 "--secret-file", (dir_ / "no-such-file").string()})
                .exit_code,
            2);
  EXPECT_EQ(Run({"--as", "svc-kpi-monitor", "webhook", "create", "--url",
                 "https://127.0.0.1:9/h", "--secret-file", secret})
                .exit_code,
            64 + 3);

  Ok(Run({"--as", "svc-kpi-monitor", "webhook", "delete", webhook.id()}));
  auto after = Json<v1::ListWebhooksResponse>(
      Run({"--as", "svc-kpi-monitor", "-o", "json", "webhook", "list"}));
  EXPECT_EQ(after.webhooks_size(), 0);
}

TEST_F(CliTest, ReportsAsTableCsvAndJson) {
  const std::string approved = StartDealerClaim("D-700");
  const std::string returned = StartDealerClaim("D-701");
  const std::string rejected = StartDealerClaim("D-702");
  StartDealerClaim("D-703");
  Ok(Run({"--as", "tina.luo", "task", "approve", InboxTask("tina.luo", approved).id()}));
  // A fifth of claims are drawn for quality control; a drawn one passes it.
  auto at_qc = Json<v1::InstanceResponse>(
      Run({"--as", "bob.zhang", "-o", "json", "instance", "get", approved}));
  if (at_qc.instance().active_steps_size() == 1 &&
      at_qc.instance().active_steps(0) == "quality-check") {
    Ok(Run({"--as", "uma.deng", "task", "complete", InboxTask("uma.deng", approved).id(),
            "--result", "qc_result=pass", "--comment", "documents and amounts match"}));
  }
  Ok(Run({"--as", "tina.luo", "task", "return", InboxTask("tina.luo", returned).id(), "--reason",
          "missing_invoice", "--comment", "attach the invoice"}));
  Ok(Run({"--as", "tina.luo", "task", "reject", InboxTask("tina.luo", rejected).id(), "--reason",
          "data_mismatch", "--comment", "amounts differ"}));
  // Days around today wherever the calendar's zone puts it.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const std::vector<std::string> period = {"--definition", "dealer-claim", "--from",
                                           absl::FormatCivilTime(today - 1), "--to",
                                           absl::FormatCivilTime(today + 1)};
  auto report = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--as", "olivia.ke"});
    args.insert(args.end(), period.begin(), period.end());
    return Run(args);
  };
  // The projections follow the commits within moments.
  Result volume;
  for (int attempt = 0; attempt < 50; ++attempt) {
    volume = report({"report", "volume"});
    Ok(volume);
    ParsedTable table(volume.out);
    if (table.size() == 1 && table.Cell(0, "FINISHED") == "2") break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ParsedTable table(volume.out);
  ASSERT_EQ(table.size(), 1u) << volume.out;
  EXPECT_EQ(table.Cell(0, "STARTED"), "4");
  EXPECT_EQ(table.Cell(0, "APPROVED"), "1");
  EXPECT_EQ(table.Cell(0, "REJECTED"), "1");

  Result reasons = report({"-o", "csv", "report", "reasons"});
  Ok(reasons);
  EXPECT_THAT(reasons.out, HasSubstr("ACTION,CODE,LABEL,COUNT,%,CUMULATIVE_%\n"));
  EXPECT_THAT(reasons.out, HasSubstr("RETURN,missing_invoice,"));
  EXPECT_THAT(reasons.out, HasSubstr("REJECT,data_mismatch,"));

  auto decided = Json<v1::VolumeReport>(report({"-o", "json", "report", "volume", "--by", "approver"}));
  int64_t by_tina = -1;
  for (const auto& row : decided.rows()) {
    if (row.group() == "tina.luo") by_tina = row.tasks_decided();
  }
  EXPECT_EQ(by_tina, 3);

  Result backlog = report({"report", "backlog", "--by", "step"});
  Ok(backlog);
  // D-703 waits at claim-review for tina.luo and tony.hu.
  ParsedTable open(backlog.out);
  const int review = RowWhere(open, "GROUP", "claim-review");
  ASSERT_GE(review, 0) << backlog.out;
  EXPECT_EQ(open.Cell(review, "OPEN"), "2");

  // A grouping the backlog has not: INVALID_ARGUMENT (64 + 3) with its field.
  Result by_week = report({"report", "backlog", "--by", "week"});
  EXPECT_EQ(by_week.exit_code, 67) << by_week.err;
  EXPECT_THAT(by_week.err, HasSubstr("group_by:"));
  // A grouping nobody has: a usage error, nothing sent.
  EXPECT_EQ(report({"report", "volume", "--by", "fortnight"}).exit_code, 2);
  // The applicant is no auditor, process admin or department head.
  Result refused = Run({"--as", "bob.zhang", "report", "sla", "--definition", "dealer-claim"});
  EXPECT_EQ(refused.exit_code, 64 + 7) << refused.err;
}

// The ledger report of the loyalty budget after a scheme consumed part of
// it and the process admin lowered the quarter's limit; that limit in the
// admin trail; an overlapping delegation refused.
TEST_F(CliTest, LedgerReportLimitTrailAndOverlappingDelegations) {
  const std::string form = File("scheme.yaml",
                                "scheme_name: Double points\nbudget: 150000\npnl_ratio: 2.0\n"
                                "description: double points on weekend dining\n");
  Result started = Run(
      {"--as", "mia.xu", "-o", "json", "instance", "start", "loyalty-scheme", "--form-file", form});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();
  Ok(Run({"--as", "rachel.feng", "task", "approve", InboxTask("rachel.feng", id).id()}));
  Ok(Run(
      {"--as", "lena.bai", "ledger", "set-limit", "loyalty-scheme", "loyalty-budget", "400000"}));

  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  // signoffctl as `user` with `globals`, then the report with `options`.
  auto report = [&](const std::string& user, std::vector<std::string> globals,
                    std::vector<std::string> options = {}) {
    std::vector<std::string> args = {"--as", user};
    args.insert(args.end(), globals.begin(), globals.end());
    args.insert(args.end(), {"report", "ledgers", "--definition", "loyalty-scheme", "--from",
                             absl::FormatCivilTime(today - 1), "--to",
                             absl::FormatCivilTime(today + 1)});
    args.insert(args.end(), options.begin(), options.end());
    return Run(args);
  };
  Result table_out = report("lena.bai", {});
  Ok(table_out);
  ParsedTable table(table_out.out);
  ASSERT_EQ(table.size(), 1u) << table_out.out;
  EXPECT_EQ(table.Cell(0, "LEDGER"), "loyalty-budget");
  EXPECT_EQ(table.Cell(0, "LIMIT"), "400000.00");
  EXPECT_EQ(table.Cell(0, "CONSUMED"), "150000.00");
  EXPECT_EQ(table.Cell(0, "REMAINING"), "250000.00");
  EXPECT_EQ(table.Cell(0, "USED_%"), "37.5");
  EXPECT_EQ(table.Cell(0, "EXCEEDED"), "0");
  EXPECT_EQ(table.Cell(0, "UNIT"), "CNY");

  Result csv = report("olivia.ke", {"-o", "csv"});
  Ok(csv);
  EXPECT_THAT(csv.out, ::testing::StartsWith(
                           "LEDGER,KEY,PERIOD,LIMIT,RESERVED,CONSUMED,REMAINING,USED_%,EXCEEDED,"
                           "UNIT\nloyalty-budget,,"));
  auto json = Json<v1::LedgerReport>(
      report("olivia.ke", {"-o", "json"}, {"--ledger", "loyalty-budget"}));
  ASSERT_EQ(json.rows_size(), 1);
  EXPECT_EQ(json.rows(0).utilisation_percent(), 37.5);
  EXPECT_EQ(json.rows(0).consumed(), 150000);

  // The applicant reads no ledgers; a ledger the definition lacks names
  // its field.
  EXPECT_EQ(report("mia.xu", {}).exit_code, 64 + 7);
  Result unknown = report("lena.bai", {}, {"--ledger", "nope"});
  EXPECT_EQ(unknown.exit_code, 64 + 3) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("ledger:"));

  Result trail = Run({"--as", "olivia.ke", "audit", "admin-log", "--after", "11"});
  Ok(trail);
  EXPECT_THAT(trail.out, HasSubstr("1 admin event(s) shown of 12; hash chain verified"));
  ParsedTable events(trail.out);
  EXPECT_EQ(events.Cell(0, "ACTOR"), "lena.bai");
  EXPECT_EQ(events.Cell(0, "ACTION"), "ledger_limit_set");
  EXPECT_EQ(events.Cell(0, "TARGET"), "loyalty-scheme/loyalty-budget");
  EXPECT_THAT(events.Cell(0, "DETAIL"), HasSubstr(": limit 1000000.00 -> 400000.00 CNY"));

  auto rfc3339 = [](absl::Time at) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at, absl::UTCTimeZone());
  };
  const absl::Time now = absl::Now();
  Result first = Run({"--as", "jack.sun", "-o", "json", "delegation", "set", "--to", "henry.zhao",
                      "--from", rfc3339(now), "--until", rfc3339(now + absl::Hours(48))});
  Ok(first);
  const std::string first_id = Json<v1::SetDelegationResponse>(first).delegation().id();
  Result overlapping =
      Run({"--as", "jack.sun", "delegation", "set", "--to", "amy.song", "--from",
           rfc3339(now + absl::Hours(24)), "--until", rfc3339(now + absl::Hours(72))});
  EXPECT_EQ(overlapping.exit_code, 64 + 9) << overlapping.err;
  EXPECT_THAT(overlapping.err, HasSubstr(first_id));
  // Starting as the first ends is no overlap.
  Ok(Run({"--as", "jack.sun", "delegation", "set", "--to", "amy.song", "--from",
          rfc3339(now + absl::Hours(48)), "--until", rfc3339(now + absl::Hours(72))}));
}

// A probation review an HR business partner files about an employee.
std::string ProbationFormFor(const std::string& employee) {
  return absl::StrCat("employee: ", employee,
                      "\ngrade: P5\nprobation_end: 2026-03-31\n"
                      "self_assessment: Met every probation goal, two early.\n"
                      "recommendation: confirm\n");
}

// The employee's own supervisor and department head decide, not the HR
// partner's manager; the subject reads it; two reviews are approved in
// one call; the HR group's task is claimed, given back and claimed again.
TEST_F(CliTest, ProbationReviewFiledByHrOnBehalfOfAnEmployee) {
  std::vector<std::string> ids;
  for (const std::string employee : {"fiona.yang", "george.xie"}) {
    const std::string form = File(employee + ".yaml", ProbationFormFor(employee));
    Result started = Run({"--as", "amy.song", "-o", "json", "instance", "start",
                          "probation-review", "--form-file", form});
    Ok(started);
    ids.push_back(Json<v1::InstanceResponse>(started).instance().id());
  }
  const std::string id = ids[0];
  auto history = Json<v1::GetHistoryResponse>(
      Run({"--as", "fiona.yang", "-o", "json", "instance", "history", id}));
  ASSERT_GT(history.events_size(), 0);
  EXPECT_EQ(history.events(0).actor(), "amy.song");
  EXPECT_EQ(history.events(0).instance_started().filed_for(), "fiona.yang");
  EXPECT_EQ(history.events(0).reason(), "filed by amy.song on behalf of subject fiona.yang");

  // eric.zhou supervises both employees; linda.xu (amy's manager) has nothing.
  const v1::Task supervisor = InboxTask("eric.zhou", id);
  EXPECT_EQ(supervisor.step_id(), "supervisor-evaluation");
  EXPECT_EQ(supervisor.chosen_by(), "subject_manager_level:1 of subject fiona.yang");
  auto linda = Json<v1::ListTasksResponse>(Run({"--as", "linda.xu", "-o", "json", "task", "list"}));
  EXPECT_EQ(linda.tasks_size(), 0);
  Result bulk = Run({"--as", "eric.zhou", "task", "approve", supervisor.id(),
                     InboxTask("eric.zhou", ids[1]).id(), "--comment", "ready"});
  Ok(bulk);
  EXPECT_THAT(bulk.out, HasSubstr("APPROVE recorded on " + supervisor.id()));

  const v1::Task head = InboxTask("jack.sun", id);
  EXPECT_EQ(head.step_id(), "department-review");
  Ok(Run({"--as", "jack.sun", "task", "approve", head.id()}));
  // amy.song filed it, so the HR review is brian.cao's alone.
  Ok(Run({"--as", "brian.cao", "task", "approve", InboxTask("brian.cao", id).id()}));
  Ok(Run({"--as", "linda.xu", "task", "approve", InboxTask("linda.xu", id).id()}));
  const std::string notify = InboxTask("brian.cao", id).id();
  Ok(Run({"--as", "brian.cao", "task", "claim", notify}));
  Result unclaimed = Run({"--as", "brian.cao", "-o", "json", "task", "unclaim", notify});
  Ok(unclaimed);
  EXPECT_EQ(Json<v1::TaskResponse>(unclaimed).task().assignee(), "");
  Ok(Run({"--as", "amy.song", "task", "claim", notify}));
  Ok(Run({"--as", "amy.song", "task", "complete", notify}));

  auto done = Json<v1::InstanceResponse>(
      Run({"--as", "fiona.yang", "-o", "json", "instance", "get", id}));
  EXPECT_EQ(done.instance().status(), v1::APPROVED);
}

// The supervisor is disabled, so the task climbs to their manager, who is
// away and has delegated it; the delegate rejects on their behalf.
TEST_F(CliTest, ProbationReviewClimbsPastADisabledSupervisorToADelegate) {
  const std::string org = File("eric-leaves.yaml",
                               "users:\n  - {id: eric.zhou, display_name: Eric Zhou, "
                               "department: sales-west, manager: jack.sun, disabled: true}\n");
  Ok(Run({"--as", "carl.yuan", "directory", "import", org}));
  const absl::Time now = absl::Now();
  auto rfc3339 = [](absl::Time at) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at, absl::UTCTimeZone());
  };
  Result set = Run({"--as", "jack.sun", "-o", "json", "delegation", "set", "--to", "henry.zhao",
                    "--from", rfc3339(now - absl::Hours(1)), "--until",
                    rfc3339(now + absl::Hours(24)), "--definition", "probation-review"});
  Ok(set);
  const std::string delegation = Json<v1::SetDelegationResponse>(set).delegation().id();
  Result listed = Run({"--as", "henry.zhao", "delegation", "list"});
  Ok(listed);
  ParsedTable delegations(listed.out);
  ASSERT_EQ(delegations.size(), 1u) << listed.out;
  EXPECT_EQ(delegations.Cell(0, "DELEGATOR"), "jack.sun");
  EXPECT_EQ(delegations.Cell(0, "DEFINITIONS"), "probation-review");

  Result started = Run({"--as", "amy.song", "-o", "json", "instance", "start", "probation-review",
                        "--form-file", File("fiona.yaml", ProbationFormFor("fiona.yang"))});
  Ok(started);
  const std::string id = Json<v1::InstanceResponse>(started).instance().id();
  const v1::Task task = InboxTask("henry.zhao", id);
  EXPECT_EQ(task.step_id(), "supervisor-evaluation");
  EXPECT_EQ(task.delegated_from(), "jack.sun");
  EXPECT_THAT(task.chosen_by(), HasSubstr("up the chain for disabled eric.zhou"));
  Ok(Run({"--as", "henry.zhao", "task", "reject", task.id(), "--reason", "goals_not_met",
          "--comment", "two goals missed"}));

  auto history = Json<v1::GetHistoryResponse>(
      Run({"--as", "amy.song", "-o", "json", "instance", "history", id}));
  bool skipped = false;
  bool on_behalf = false;
  for (const auto& event : history.events()) {
    skipped |= event.has_approver_skipped() && event.approver_skipped().user() == "eric.zhou" &&
               event.reason() == "eric.zhou is disabled; the task goes up the chain to jack.sun";
    on_behalf |= event.has_task_completed() && event.actor() == "henry.zhao" &&
                 event.on_behalf_of() == "jack.sun";
  }
  EXPECT_TRUE(skipped);
  EXPECT_TRUE(on_behalf);
  const std::string notify = InboxTask("brian.cao", id).id();
  Ok(Run({"--as", "brian.cao", "task", "claim", notify}));
  Ok(Run({"--as", "brian.cao", "task", "complete", notify}));
  auto done = Json<v1::InstanceResponse>(
      Run({"--as", "amy.song", "-o", "json", "instance", "get", id}));
  EXPECT_EQ(done.instance().status(), v1::REJECTED);

  // Only jack.sun or an administrator ends the delegation.
  EXPECT_EQ(Run({"--as", "henry.zhao", "delegation", "remove", delegation}).exit_code, 64 + 7);
  Ok(Run({"--as", "jack.sun", "delegation", "remove", delegation}));
  Result none = Run({"--as", "jack.sun", "-o", "json", "delegation", "list"});
  Ok(none);
  EXPECT_EQ(Json<v1::ListDelegationsResponse>(none).delegations_size(), 0);
}

TEST_F(CliTest, EveryCommandGroupsHelpShowsItsOwnExample) {
  const std::vector<std::vector<std::string>> groups = {
      {"task"},     {"instance"}, {"definition"}, {"directory"}, {"directory", "user"},
      {"calendar"}, {"audit"},    {"health"},     {"instance", "wait"}, {"job"},
      {"incident"}, {"notification"}, {"delegation"}};
  for (const auto& group : groups) {
    std::vector<std::string> args = group;
    args.push_back("--help");
    Result help = Run(args);
    const std::string name = absl::StrJoin(group, " ");
    EXPECT_EQ(help.exit_code, 0) << name << ": " << help.err;
    const size_t example = help.out.find("\nExample");
    ASSERT_NE(example, std::string::npos) << name << ":\n" << help.out;
    const size_t first = help.out.find('\n', example + 1) + 1;
    const std::string line = help.out.substr(first, help.out.find('\n', first) - first);
    EXPECT_THAT(line, ::testing::StartsWith("  signoffctl ")) << name;
    EXPECT_THAT(line + " ", HasSubstr(" " + name + " ")) << name << ":\n" << help.out;
  }
}


// The README's tour of signoffctl, run as written against a real server:
// it acts as SIGNOFF_USER and shows the time zone option, a return with a
// reason code and the audit.
TEST_F(CliTest, TheReadmeTourRuns) {
  const std::vector<std::string> tour = ReadmeTour();
  ASSERT_GT(tour.size(), 10u);
  const std::string all = absl::StrJoin(tour, "\n");
  EXPECT_THAT(all, HasSubstr("export SIGNOFF_USER=bob.zhang\nsignoffctl instance start"));
  EXPECT_THAT(all, ::testing::ContainsRegex("signoffctl [^\n]*--tz "));
  EXPECT_THAT(all, ::testing::ContainsRegex("task return [^\n]*--reason "));
  EXPECT_THAT(all, HasSubstr("audit verify"));
  const std::string readme = ReadWholeFile(std::string(SIGNOFF_SOURCE_DIR) + "/README.md");
  EXPECT_THAT(readme, HasSubstr("`instance history` exits 1 when"));

  std::vector<std::string> env;
  std::string instance;
  for (std::string command : tour) {
    command = absl::StrReplaceAll(command, {{"<task id>", "@task"}, {"<instance id>", "@instance"}});
    std::vector<std::string> words = ShellWords(command);
    if (words[0] == "export") {
      // The test's own server, not the address of the tour.
      if (!absl::StartsWith(words[1], "SIGNOFF_ADDRESS=")) env.push_back(words[1]);
      continue;
    }
    ASSERT_EQ(words[0], "signoffctl") << command;
    words.erase(words.begin());
    for (auto& word : words) {
      if (word == "@instance") word = instance;
      if (word == "@task") word = InboxTask("tina.luo", instance).id();
      if (absl::StartsWith(word, "workflow/")) word = absl::StrCat(SIGNOFF_SOURCE_DIR, "/", word);
    }
    Result result = RunWithEnv(env, words);
    EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.out << result.err;
    if (instance.empty()) {
      instance = std::string(absl::StripAsciiWhitespace(
          absl::StripPrefix(LineStarting(result.out, "Instance:"), "Instance:")));
      ASSERT_FALSE(instance.empty()) << "the tour starts no instance first:\n" << command << "\n" << result.out;
    }
  }
  auto done = Json<v1::InstanceResponse>(Run({"--as", "bob.zhang", "-o", "json", "instance", "get", instance}));
  EXPECT_EQ(done.instance().form().fields().at("invoice_number").string_value(), "INV-2026-0042");
}

// An invoice uploaded with the claim through the CLI: the reviewer
// downloads the same bytes; a colleague outside the claim is told it does
// not exist (exit 64 + NOT_FOUND).
TEST_F(CliTest, AnInvoiceTravelsWithADealerClaim) {
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; pdf.size() < 300 * 1024; ++i) pdf += absl::StrCat("line ", i, " \x01\xff\n");
  const std::string invoice = File("invoice.pdf", pdf);

  // Uploaded on its own, the reference comes back.
  Result uploaded = Run({"--as", "bob.zhang", "-o", "json", "attachment", "upload", invoice,
                         "--definition", "dealer-claim"});
  Ok(uploaded);
  const v1::AttachmentResponse reference = Json<v1::AttachmentResponse>(uploaded);
  EXPECT_EQ(reference.attachment().name(), "invoice.pdf");
  EXPECT_EQ(reference.attachment().size(), static_cast<int64_t>(pdf.size()));
  EXPECT_EQ(reference.attachment().media_type(), "application/pdf");
  EXPECT_EQ(reference.uploader(), "bob.zhang");

  // Started with invoices=@FILE, which uploads it again (the same content).
  Result with_invoice = Run({"--as", "bob.zhang", "-o", "json", "instance", "start",
                             "dealer-claim", "--form", "dealer_id=D-8", "--form",
                             "claim_type=warranty", "--form", "amount=1200", "--form",
                             "region=sales-east", "--form",
                             "description=Warranty repair of ten vehicles", "--form",
                             "invoices=@" + invoice});
  Ok(with_invoice);
  const std::string id = Json<v1::InstanceResponse>(with_invoice).instance().id();
  const std::string sha256 = reference.attachment().sha256();

  const std::string copy = (dir_ / "reviewer-copy.pdf").string();
  Ok(Run({"--as", "tina.luo", "attachment", "download", sha256, "--instance", id, "-o", copy}));
  std::ifstream read(copy, std::ios::binary);
  const std::string downloaded((std::istreambuf_iterator<char>(read)),
                               std::istreambuf_iterator<char>());
  EXPECT_EQ(downloaded, pdf);
  Result shown = Run({"--as", "tina.luo", "attachment", "get", sha256, "--instance", id});
  Ok(shown);
  ParsedTable table(shown.out);
  EXPECT_EQ(table.Cell(0, "NAME"), "invoice.pdf");
  EXPECT_EQ(table.Cell(0, "UPLOADER"), "bob.zhang");

  Result refused = Run({"--as", "cathy.wu", "attachment", "download", sha256, "--instance", id,
                        "-o", (dir_ / "stolen.pdf").string()});
  EXPECT_EQ(refused.exit_code, 64 + 5) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("not found"));

  // The audit trail names the file and who uploaded it.
  auto history =
      Json<v1::GetHistoryResponse>(Run({"--as", "bob.zhang", "-o", "json", "instance",
                                        "history", id}));
  ASSERT_GT(history.events_size(), 0);
  const auto& recorded = history.events(0).instance_started().attachments();
  ASSERT_EQ(recorded.size(), 1);
  EXPECT_EQ(recorded[0].name(), "invoice.pdf");
  EXPECT_EQ(recorded[0].uploader(), "bob.zhang");
}

}  // namespace
}  // namespace signoff::testing
