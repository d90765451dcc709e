// The directory: users, departments and role grants.

#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::Department;
using ::signoff::v1::User;
using ::testing::ElementsAre;

Department MakeDepartment(const std::string& id, const std::string& parent,
                          const std::string& head) {
  Department department;
  department.set_id(id);
  department.set_name("Dept " + id);
  department.set_parent(parent);
  department.set_head(head);
  return department;
}

// Grants use "role" or "role@department"; no department means the user's own.
User MakeUser(const std::string& id, const std::string& department,
              const std::string& manager, std::vector<std::string> grants = {}) {
  User user;
  user.set_id(id);
  user.set_display_name("User " + id);
  user.set_department(department);
  user.set_manager(manager);
  for (const std::string& grant : grants) {
    auto* role = user.add_roles();
    const size_t at = grant.find('@');
    role->set_role(grant.substr(0, at));
    if (at != std::string::npos) role->set_department(grant.substr(at + 1));
  }
  return user;
}

void SeedDirectory(Store& store) {
  Mutation mutation;
  mutation.departments = {MakeDepartment("hq", "", "ceo"),
                          MakeDepartment("sales", "hq", "sam"),
                          MakeDepartment("finance", "hq", "fay")};
  mutation.users = {
      MakeUser("ceo", "hq", ""),
      MakeUser("sam", "sales", "ceo", {"manager"}),
      MakeUser("sid", "sales", "sam", {"clerk", "auditor@finance"}),
      MakeUser("fay", "finance", "ceo", {"manager", "auditor"}),
      MakeUser("fin", "finance", "fay", {"clerk"}),
  };
  ASSERT_OK(store.Commit(mutation));
}

std::vector<std::string> Ids(const Page<User>& page) {
  std::vector<std::string> ids;
  for (const User& user : page.items) ids.push_back(user.id());
  return ids;
}

std::vector<std::string> ListIds(Store& store, const std::string& department,
                                 const std::string& role) {
  UserFilter filter;
  filter.department = department;
  filter.role = role;
  auto page = store.ListUsers(filter);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? Ids(*page) : std::vector<std::string>{};
}

TEST_P(StoreTest, LoadDirectoryReturnsEverythingSorted) {
  SeedDirectory(store());
  ASSERT_OK_AND_ASSIGN(auto organisation, store().LoadDirectory());
  ASSERT_EQ(organisation.departments_size(), 3);
  EXPECT_EQ(organisation.departments(0).id(), "finance");
  EXPECT_EQ(organisation.departments(1).id(), "hq");
  EXPECT_EQ(organisation.departments(2).head(), "sam");
  ASSERT_EQ(organisation.users_size(), 5);
  EXPECT_EQ(organisation.users(0).id(), "ceo");
  EXPECT_EQ(organisation.users(4).id(), "sid");
  EXPECT_EQ(organisation.users(4).roles_size(), 2);
}

TEST_P(StoreTest, EmptyDirectoryLoads) {
  ASSERT_OK_AND_ASSIGN(auto organisation, store().LoadDirectory());
  EXPECT_EQ(organisation.departments_size(), 0);
  EXPECT_EQ(organisation.users_size(), 0);
}

TEST_P(StoreTest, GetUserReturnsTheStoredUser) {
  SeedDirectory(store());
  ASSERT_OK_AND_ASSIGN(User sid, store().GetUser("sid"));
  EXPECT_EQ(sid.SerializeAsString(),
            MakeUser("sid", "sales", "sam", {"clerk", "auditor@finance"}).SerializeAsString());
  EXPECT_CODE(store().GetUser("nobody"), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, ListUsersByDepartment) {
  SeedDirectory(store());
  EXPECT_THAT(ListIds(store(), "sales", ""), ElementsAre("sam", "sid"));
  EXPECT_THAT(ListIds(store(), "", ""), ElementsAre("ceo", "fay", "fin", "sam", "sid"));
}

TEST_P(StoreTest, ListUsersByRoleResolvesOwnDepartment) {
  SeedDirectory(store());
  EXPECT_THAT(ListIds(store(), "", "clerk"), ElementsAre("fin", "sid"));
  EXPECT_THAT(ListIds(store(), "sales", "clerk"), ElementsAre("sid"));
  EXPECT_THAT(ListIds(store(), "finance", "manager"), ElementsAre("fay"));
  // sid holds auditor in finance although he sits in sales.
  EXPECT_THAT(ListIds(store(), "finance", "auditor"), ElementsAre("fay", "sid"));
  EXPECT_THAT(ListIds(store(), "sales", "auditor"), ElementsAre());
}

TEST_P(StoreTest, UserUpsertReplacesRolesAndFields) {
  SeedDirectory(store());
  Mutation move;
  move.users = {MakeUser("sid", "finance", "fay", {"manager"})};
  ASSERT_OK(store().Commit(move));

  ASSERT_OK_AND_ASSIGN(User sid, store().GetUser("sid"));
  EXPECT_EQ(sid.department(), "finance");
  EXPECT_EQ(sid.manager(), "fay");
  EXPECT_THAT(ListIds(store(), "", "clerk"), ElementsAre("fin"));
  EXPECT_THAT(ListIds(store(), "", "auditor"), ElementsAre("fay"));
  EXPECT_THAT(ListIds(store(), "finance", "manager"), ElementsAre("fay", "sid"));
  EXPECT_THAT(ListIds(store(), "finance", ""), ElementsAre("fay", "fin", "sid"));
}

TEST_P(StoreTest, DepartmentUpsertReplacesFields) {
  SeedDirectory(store());
  Mutation mutation;
  mutation.departments = {MakeDepartment("sales", "hq", "sid")};
  ASSERT_OK(store().Commit(mutation));
  ASSERT_OK_AND_ASSIGN(auto organisation, store().LoadDirectory());
  ASSERT_EQ(organisation.departments_size(), 3);
  EXPECT_EQ(organisation.departments(2).id(), "sales");
  EXPECT_EQ(organisation.departments(2).head(), "sid");
}

TEST_P(StoreTest, ListUsersPages) {
  SeedDirectory(store());
  UserFilter filter;
  constexpr size_t kUsers = 5;
  constexpr size_t kPageSize = 2;
  filter.page_size = kPageSize;
  // The pages the users fill, with room for an empty last page when they
  // fill them exactly: a token after that means paging does not end.
  constexpr size_t kMaxPages = kUsers / kPageSize + 1;
  std::vector<std::vector<std::string>> pages;
  do {
    ASSERT_OK_AND_ASSIGN(auto page, store().ListUsers(filter));
    pages.push_back(Ids(page));
    filter.page_token = page.next_page_token;
  } while (!filter.page_token.empty() && pages.size() < kMaxPages);
  ASSERT_TRUE(filter.page_token.empty())
      << "ListUsers still had a next page after " << kMaxPages << " pages";
  EXPECT_THAT(pages, ElementsAre(ElementsAre("ceo", "fay"), ElementsAre("fin", "sam"),
                                 ElementsAre("sid")));

  UserFilter bad;
  bad.page_token = "garbage!";
  EXPECT_CODE(store().ListUsers(bad), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, UserWithoutIdIsRejected) {
  Mutation mutation;
  mutation.users = {MakeUser("ok", "hq", ""), MakeUser("", "hq", "")};
  EXPECT_CODE(store().Commit(mutation), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(store().GetUser("ok"), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace signoff::storage::testing
