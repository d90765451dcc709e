#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> ProblemsOf(const std::string& yaml) {
  auto definition = workflow::ParseDefinitionYaml(yaml);
  std::vector<std::string> out;
  if (!definition.ok()) {
    for (const auto& v : workflow::ViolationsOf(definition.status())) {
      out.push_back(v.field + ": " + v.description);
    }
    return out;
  }
  for (const auto& problem : workflow::ValidateDefinition(*definition)) {
    out.push_back(problem.path() + ": " + problem.message());
  }
  return out;
}

std::string ReadShipped(const std::string& name) {
  std::ifstream in(std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DefinitionYamlTest, EveryUnknownFieldIsReportedWithItsPath) {
  auto problems = ProblemsOf(R"(
key: t
stepz: []
steps:
  - id: a
    approval: {approverz: [{user: x}], policy: MOST}
    next: [{to: b, whenn: {}}]
  - {id: b, end: {}}
)");
  EXPECT_THAT(problems, Contains(HasSubstr("stepz: unknown field")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].approval.approverz: unknown field")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].approval.policy: unknown ApprovalPolicy")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].next[0].whenn: unknown field")));
}

TEST(DefinitionYamlTest, CamelCaseAndSnakeCaseBothMap) {
  auto definition = workflow::ParseDefinitionYaml(R"(
key: t
startStep: b
steps:
  - {id: b, on_reject: c, approval: {approvers: [{managerLevel: 1}]}, next: [{to: c}]}
  - {id: c, end: {}}
)");
  ASSERT_OK(definition);
  EXPECT_EQ(definition->start_step(), "b");
  EXPECT_EQ(definition->steps(0).on_reject(), "c");
  EXPECT_EQ(definition->steps(0).approval().approvers(0).manager_level(), 1u);
}

TEST(DefinitionYamlTest, MalformedYamlIsAnErrorNotACrash) {
  auto definition = workflow::ParseDefinitionYaml("key: [unclosed\n  steps: {");
  EXPECT_CODE(definition, absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(workflow::ParseDefinitionYaml("- just\n- a list"),
              absl::StatusCode::kInvalidArgument);
}

TEST(DefinitionYamlTest, AliasesNameANodeAgain) {
  auto definition = workflow::ParseDefinitionYaml(R"(
key: t
steps:
  - id: a
    approval: {approvers: &reviewers [{user: bob.zhang}, {manager_level: 1}]}
    next: [{when: &large {field: amount, op: GT, value: 100}, to: b}, {to: b}]
  - id: b
    approval: {approvers: *reviewers}
    next: [{when: {not: *large}, to: c}, {to: c}]
  - {id: c, end: {}}
)");
  ASSERT_OK(definition);
  EXPECT_EQ(definition->steps(1).approval().approvers_size(), 2);
  EXPECT_EQ(definition->steps(1).next(0).when().not_().field(), "amount");
}

// An alias inside its own anchor made the mapping recurse until the stack
// ran out (found while writing tests/fuzz/).
TEST(DefinitionYamlTest, AnAliasInsideItsOwnAnchorIsAProblemNotACrash) {
  EXPECT_THAT(ProblemsOf(R"(
key: t
steps:
  - id: a
    next: [{when: &loop {all: [*loop]}, to: a}]
)"),
              Contains(HasSubstr("nests deeper than 100 levels")));
  auto form = workflow::ParseFormYaml("items: &loop [*loop]");
  EXPECT_CODE(form, absl::StatusCode::kInvalidArgument);
}

// Ten levels of ten aliases each name a billion nodes in a few hundred
// bytes; mapping them all would never finish.
TEST(DefinitionYamlTest, AliasesThatExpandWithoutBoundAreRefused) {
  std::string yaml = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 10; ++level) {
    const std::string below = absl::StrCat("*l", level - 1);
    absl::StrAppend(&yaml, "l", level, ": &l", level, " [", below);
    for (int i = 1; i < 10; ++i) absl::StrAppend(&yaml, ", ", below);
    absl::StrAppend(&yaml, "]\n");
  }
  auto form = workflow::ParseFormYaml(yaml);
  EXPECT_CODE(form, absl::StatusCode::kInvalidArgument);
  const auto violations = workflow::ViolationsOf(form.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_THAT(violations[0].description, HasSubstr("aliases expand the document"));
}

// Numbers were written out with six significant digits on their way to
// protobuf, so an amount of 1234567.89 arrived as 1234570.
TEST(FormYamlTest, NumbersKeepEveryDigit) {
  ASSERT_OK_AND_ASSIGN(auto form, workflow::ParseFormYaml(
      "amount: 1234567.89\nratio: 0.1234567890123\nbig: 12345678901234567\ntiny: 1e-300"));
  EXPECT_EQ(form.fields().at("amount").number_value(), 1234567.89);
  EXPECT_EQ(form.fields().at("ratio").number_value(), 0.1234567890123);
  EXPECT_EQ(form.fields().at("big").number_value(), 12345678901234567.0);
  EXPECT_EQ(form.fields().at("tiny").number_value(), 1e-300);
  auto definition = workflow::ParseDefinitionYaml(R"(
key: t
steps:
  - {id: a, approval: {approvers: [{user: x}]},
     next: [{when: {field: amount, op: GT, value: 9999999.99}, to: b}, {to: b}]}
  - {id: b, end: {}}
)");
  ASSERT_OK(definition);
  EXPECT_EQ(definition->steps(0).next(0).when().value().number_value(), 9999999.99);
}

TEST(ValidationTest, ReportsEveryKindOfProblem) {
  auto problems = ProblemsOf(R"(
key: t
form: {fields: [{name: amount, type: MONEY}, {name: amount, type: NUMBER}]}
steps:
  - id: a
    approval: {approvers: []}
    next: [{when: {field: nope, op: GT, value: 1}, to: b}, {to: ghost}]
  - {id: b, approval: {approvers: [{}]}, next: [{to: b2}]}
  - {id: b2, approval: {approvers: [{user: x}]}, next: [{to: b}]}
  - {id: lonely, approval: {approvers: [{user: x}]}, next: [{to: end}]}
  - {id: end, end: {}}
  - {id: end, end: {}}
)");
  EXPECT_THAT(problems, Contains(HasSubstr("form.fields[1].name: duplicate field")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].approval.approvers: names no one")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].next[0].when.field: unknown form field 'nope'")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].next[1].to: unknown step 'ghost'")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[1].approval.approvers[0]: names no one")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[5].id: duplicate step id 'end'")));
}

TEST(ValidationTest, UnreachableStepsAndStepsWithNoWayToAnEnd) {
  auto problems = ProblemsOf(R"(
key: t
steps:
  - {id: a, approval: {approvers: [{user: x}]}, next: [{to: b}]}
  - {id: b, approval: {approvers: [{user: x}]}, next: [{to: a}]}
  - {id: island, approval: {approvers: [{user: x}]}, next: [{to: end}]}
  - {id: end, end: {}}
)");
  EXPECT_THAT(problems, Contains(HasSubstr("step 'island' is unreachable")));
  EXPECT_THAT(problems, Contains(HasSubstr("step 'a' has no way to an end step")));
  EXPECT_THAT(problems, Contains(HasSubstr("step 'b' has no way to an end step")));
}

TEST(ValidationTest, ConditionalRoutesNeedADefault) {
  auto problems = ProblemsOf(R"(
key: t
form: {fields: [{name: amount, type: MONEY}]}
steps:
  - {id: a, approval: {approvers: [{user: x}]}, next: [{when: {field: amount, op: IN, value: 3}, to: end}]}
  - {id: end, end: {}}
)");
  EXPECT_THAT(problems, Contains(HasSubstr("needs a last route without `when`")));
  EXPECT_THAT(problems, Contains(HasSubstr("IN and NOT_IN take a list")));
}

TEST(ValidationTest, DirectoryReferencesMustExist) {
  auto organisation = workflow::ParseOrganisationYaml(kTestOrganisation);
  ASSERT_OK(organisation);
  workflow::Directory directory(*organisation);
  auto definition = workflow::ParseDefinitionYaml(R"(
key: t
steps:
  - id: a
    approval: {approvers: [{user: ghost}, {role: {name: nobody-has-this}}, {department_head: {department: nowhere}}]}
    next: [{to: end}]
  - {id: end, end: {}}
)");
  ASSERT_OK(definition);
  std::vector<std::string> problems;
  for (const auto& p : workflow::ValidateDefinition(*definition, &directory)) {
    problems.push_back(p.path() + ": " + p.message());
  }
  EXPECT_THAT(problems, Contains(HasSubstr("unknown user 'ghost'")));
  EXPECT_THAT(problems, Contains(HasSubstr("no one in the directory holds role")));
  EXPECT_THAT(problems, Contains(HasSubstr("unknown department 'nowhere'")));
}

TEST(ShippedDefinitionsTest, AreValidAgainstTheDemoOrganisation) {
  auto organisation = workflow::ParseOrganisationYaml(ReadShipped("demo-org.yaml"));
  ASSERT_OK(organisation);
  EXPECT_THAT(workflow::CheckOrganisation(*organisation), IsEmpty());
  workflow::Directory directory(*organisation);
  auto calendar = workflow::ParseCalendarYaml(ReadShipped("calendars/cn-mainland.yaml"));
  ASSERT_OK(calendar);
  absl::TimeZone shanghai;
  ASSERT_TRUE(absl::LoadTimeZone(calendar->time_zone(), &shanghai));
  auto built = workflow::BusinessCalendar::Create(*calendar, shanghai);
  ASSERT_OK(built);
  workflow::CalendarSet calendars;
  calendars.Add(std::make_shared<const workflow::BusinessCalendar>(std::move(*built)));
  for (const char* name : {"probation-review.yaml", "dealer-application.yaml",
                           "dealer-claim.yaml", "partner-termination.yaml",
                           "merchant-onboarding.yaml", "seller-escalation.yaml",
                           "purchase-programme.yaml", "loyalty-scheme.yaml",
                           "quota-monitoring.yaml"}) {
    auto definition = workflow::ParseDefinitionYaml(ReadShipped(name));
    ASSERT_OK(definition);
    for (const auto& problem :
         workflow::ValidateDefinition(*definition, &directory, &calendars)) {
      ADD_FAILURE() << name << " " << problem.path() << ": " << problem.message();
    }
  }
}

TEST(OrganisationTest, ReportsDanglingReferencesAndCycles) {
  auto organisation = workflow::ParseOrganisationYaml(R"(
departments: [{id: a, parent: zz, head: nobody}]
users:
  - {id: u1, department: a, manager: u2}
  - {id: u2, department: b, manager: u1}
  - {id: u3, department: a}
  - {id: u3, department: a}
)");
  ASSERT_OK(organisation);
  std::vector<std::string> fields;
  for (const auto& v : workflow::CheckOrganisation(*organisation)) fields.push_back(v.field);
  EXPECT_THAT(fields, Contains("departments[a].parent"));
  EXPECT_THAT(fields, Contains("departments[a].head"));
  EXPECT_THAT(fields, Contains("users[u2].department"));
  EXPECT_THAT(fields, Contains("users[3].id"));
  EXPECT_THAT(fields, Contains("users[u1].manager"));
}

}  // namespace
}  // namespace signoff::testing
