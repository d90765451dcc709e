// Who may change the directory, and what a change may not break.

#include <unistd.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "server_fixture.h"
#include "status_matchers.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

absl::StatusOr<v1::UpsertDepartmentsResponse> UpsertDepartments(
    ApiClient& client, const std::string& caller, const std::string& departments_yaml,
    const std::string& request_id) {
  auto organisation =
      workflow::ParseOrganisationYaml(absl::StrCat("departments: ", departments_yaml));
  if (!organisation.ok()) return organisation.status();
  v1::UpsertDepartmentsRequest request;
  request.set_request_id(request_id);
  *request.mutable_departments() = organisation->departments();
  return client.Call(caller, *client.directory, &v1::DirectoryService::Stub::UpsertDepartments,
                     request);
}

// A signoffd whose directory is empty, as on first start without an
// organisation file.
class EmptyDirectoryTest : public ServerTest {
 protected:
  bool StartsWithOrganisation() const override { return false; }
};

TEST_F(EmptyDirectoryTest, NobodyCanMakeThemselvesAdministrator) {
  const std::string takeover = "[{id: mallory, roles: [{role: workflow-admin}]}]";
  EXPECT_CODE(client_->UpsertUsers("", takeover, "takeover-1"),
              absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(client_->UpsertUsers("mallory", takeover, "takeover-2"),
              absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(UpsertDepartments(*client_, "", "[{id: evil}]", "takeover-3"),
              absl::StatusCode::kUnauthenticated);
  ASSERT_OK_AND_ASSIGN(auto directory, store_->LoadDirectory());
  EXPECT_EQ(directory.users_size(), 0);
  EXPECT_EQ(directory.departments_size(), 0);

  // The first administrator comes from signoffd itself.
  ASSERT_OK(app_->directory().GrantAdmin("root-admin", ""));
  ASSERT_OK(client_->UpsertUsers("root-admin", "[{id: ann}]", "first-user"));
  EXPECT_CODE(client_->UpsertUsers("ann", takeover, "takeover-4"),
              absl::StatusCode::kPermissionDenied);
}

TEST_F(EmptyDirectoryTest, GrantingAdminKeepsAnExistingUsersOtherRoles) {
  ASSERT_OK(app_->directory().GrantAdmin("root-admin", ""));
  ASSERT_OK(client_->UpsertUsers(
      "root-admin", "[{id: hal, display_name: Hal, roles: [{role: hrbp}], disabled: true}]",
      "hal"));
  ASSERT_OK(app_->directory().GrantAdmin("hal", ""));
  ASSERT_OK_AND_ASSIGN(auto hal, store_->GetUser("hal"));
  EXPECT_FALSE(hal.disabled());
  EXPECT_EQ(hal.display_name(), "Hal");
  std::vector<std::string> roles;
  for (const auto& grant : hal.roles()) roles.push_back(grant.role());
  EXPECT_THAT(roles, ElementsAre("hrbp", "workflow-admin"));
  // Twice is the same as once.
  ASSERT_OK(app_->directory().GrantAdmin("hal", ""));
  ASSERT_OK_AND_ASSIGN(hal, store_->GetUser("hal"));
  EXPECT_EQ(hal.roles_size(), 2);
  EXPECT_CODE(app_->directory().GrantAdmin("", ""), absl::StatusCode::kInvalidArgument);
}

class DirectoryTest : public ServerTest {};

TEST_F(DirectoryTest, OnlyAdministratorsChangeTheDirectory) {
  EXPECT_CODE(client_->UpsertUsers("ann", "[{id: ann, department: sales, manager: ceo}]", "u1"),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(UpsertDepartments(*client_, "ann", "[{id: skunk}]", "d1"),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(client_->UpsertUsers("gone", "[{id: ann}]", "u2"),
              absl::StatusCode::kUnauthenticated);
  ASSERT_OK(UpsertDepartments(*client_, "ceo", "[{id: skunk, parent: root}]", "d2"));
}

TEST_F(DirectoryTest, TheLastAdministratorCannotBeDisabledOrDemoted) {
  EXPECT_CODE(client_->UpsertUsers("ceo", "[{id: ceo, department: root, disabled: true}]", "a1"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), Contains("users"));
  EXPECT_CODE(client_->UpsertUsers("ceo", "[{id: ceo, department: root}]", "a2"),
              absl::StatusCode::kInvalidArgument);
  // With a second administrator, the first may step down.
  ASSERT_OK(client_->UpsertUsers(
      "ceo", "[{id: hana, department: hr, manager: ceo, roles: [{role: workflow-admin}]}]",
      "a3"));
  ASSERT_OK(client_->UpsertUsers("ceo", "[{id: ceo, department: root}]", "a4"));
  ASSERT_OK_AND_ASSIGN(auto ceo, store_->GetUser("ceo"));
  EXPECT_EQ(ceo.roles_size(), 0);
  EXPECT_CODE(client_->UpsertUsers("hana", "[{id: hana, department: hr, disabled: true}]", "a5"),
              absl::StatusCode::kInvalidArgument);
}

TEST_F(DirectoryTest, DepartmentParentCyclesAreRefused) {
  EXPECT_CODE(UpsertDepartments(*client_, "ceo", "[{id: fin, parent: fin}]", "c1"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("departments[fin].parent"));
  EXPECT_CODE(UpsertDepartments(*client_, "ceo", "[{id: root, parent: hr}]", "c2"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              ElementsAre("departments[hr].parent", "departments[root].parent"));
  // Three departments in a ring, with one hanging off it.
  EXPECT_CODE(UpsertDepartments(*client_, "ceo",
                                "[{id: a, parent: c}, {id: b, parent: a}, {id: c, parent: b},"
                                " {id: d, parent: a}]",
                                "c3"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              ElementsAre("departments[a].parent", "departments[b].parent",
                          "departments[c].parent"));
  ASSERT_OK_AND_ASSIGN(auto directory, store_->LoadDirectory());
  std::map<std::string, std::string> parents;
  for (const auto& department : directory.departments()) {
    parents[department.id()] = department.parent();
  }
  EXPECT_EQ(parents["root"], "");
  EXPECT_EQ(parents["fin"], "root");
  EXPECT_EQ(parents.count("a"), 0u);
  // Moving a department under another is no cycle.
  ASSERT_OK(UpsertDepartments(*client_, "ceo", "[{id: fin, parent: sales}]", "c4"));
}

TEST_F(DirectoryTest, AnApprovalCannotBeTransferredToAServiceAccount) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 2}", "s1"));
  v1::DecideTaskRequest transfer;
  transfer.set_task_id(PendingTaskOf(view, "mia"));
  transfer.set_action(v1::TRANSFER);
  transfer.add_users("svc");
  EXPECT_CODE(client_->Decide("mia", transfer, "s2"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("users[0]"));
  transfer.set_action(v1::DELEGATE);
  EXPECT_CODE(client_->Decide("mia", transfer, "s3"), absl::StatusCode::kInvalidArgument);
  transfer.set_action(v1::TRANSFER);
  transfer.set_users(0, "sam");
  EXPECT_OK(client_->Decide("mia", transfer, "s4"));
}

}  // namespace
}  // namespace signoff::testing
