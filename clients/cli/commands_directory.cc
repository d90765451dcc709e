#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"
#include "workflow/yaml_mapping.h"

namespace signoff::cli {

namespace {

using Stub = v1::DirectoryService::Stub;

// Departments name their heads and users name their departments, so an
// import goes in three passes: departments without heads, users, then the
// heads.
absl::Status Import(Cli& cli, const std::string& file, const std::string& request_id) {
  auto text = ReadFile(file);
  if (!text.ok()) return text.status();
  auto organisation = workflow::ParseOrganisationYaml(*text);
  if (!organisation.ok()) return Annotate(organisation.status(), file);
  const std::string prefix = request_id.empty() ? NewRequestId() : request_id;

  v1::UpsertDepartmentsRequest headless;
  headless.set_request_id(prefix + "-departments");
  for (auto department : organisation->departments()) {
    department.clear_head();
    *headless.add_departments() = std::move(department);
  }
  v1::UpsertUsersRequest users;
  users.set_request_id(prefix + "-users");
  *users.mutable_users() = organisation->users();
  v1::UpsertDepartmentsRequest heads;
  heads.set_request_id(prefix + "-heads");
  *heads.mutable_departments() = organisation->departments();

  auto& connection = cli.Connect();
  if (headless.departments_size() > 0) {
    auto done = connection.Call(connection.directory(), &Stub::UpsertDepartments, headless);
    if (!done.ok()) return done.status();
  }
  if (users.users_size() > 0) {
    auto done = connection.Call(connection.directory(), &Stub::UpsertUsers, users);
    if (!done.ok()) return done.status();
  }
  if (heads.departments_size() > 0) {
    auto done = connection.Call(connection.directory(), &Stub::UpsertDepartments, heads);
    if (!done.ok()) return done.status();
  }
  if (cli.json()) {
    std::cout << "{\"departments\":" << organisation->departments_size()
              << ",\"users\":" << organisation->users_size() << "}\n";
  } else {
    std::cout << "imported " << organisation->departments_size() << " departments and "
              << organisation->users_size() << " users from " << file << "\n";
  }
  return absl::OkStatus();
}

struct UserListArgs {
  std::string department;
  std::string role;
  int limit = 500;
};

absl::Status ListUsers(Cli& cli, const UserListArgs& args) {
  v1::ListUsersRequest request;
  request.set_department(args.department);
  request.set_role(args.role);
  v1::ListUsersResponse all;
  for (;;) {
    request.set_page_size(std::min(200, args.limit - all.users_size()));
    auto page = cli.Connect().Call(cli.Connect().directory(), &Stub::ListUsers, request);
    if (!page.ok()) return page.status();
    for (auto& user : *page->mutable_users()) *all.add_users() = std::move(user);
    all.set_next_page_token(page->next_page_token());
    if (page->next_page_token().empty() || all.users_size() >= args.limit) break;
    request.set_page_token(page->next_page_token());
  }
  if (cli.json()) {
    PrintJson(all);
  } else {
    PrintUsers({all.users().begin(), all.users().end()});
  }
  return absl::OkStatus();
}

absl::Status GetUser(Cli& cli, const std::string& id) {
  v1::GetUserRequest request;
  request.set_id(id);
  auto response = cli.Connect().Call(cli.Connect().directory(), &Stub::GetUser, request);
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
    return absl::OkStatus();
  }
  PrintUsers({response->user()});
  std::cout << "department: " << response->department().id() << " (" << response->department().name()
            << "), head " << response->department().head() << "\n"
            << "managers:   " << absl::StrJoin(response->manager_chain(), " -> ") << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddDirectoryCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "directory", "the organisation: users and departments",
                     {"signoffctl directory user get bob.zhang",
                      "signoffctl --as carl.yuan directory import workflow/definitions/demo-org.yaml"});

  struct ImportArgs {
    std::string file;
    std::string request_id;
  };
  auto import_args = std::make_shared<ImportArgs>();
  auto* import = Command(*noun, "import", "load departments and users from an organisation YAML",
                         "signoffctl --as carl.yuan directory import workflow/definitions/demo-org.yaml");
  import->add_option("file", import_args->file, "organisation YAML")->required()->check(CLI::ExistingFile);
  import->add_option("--request-id", import_args->request_id, "idempotency key prefix");
  import->callback([&cli, import_args] {
    cli.run = [&cli, import_args] { return Import(cli, import_args->file, import_args->request_id); };
  });

  auto* user = Group(*noun, "user", "directory users",
                     {"signoffctl directory user list --department sales-east"});
  auto list_args = std::make_shared<UserListArgs>();
  auto* list = Command(*user, "list", "list users, by department or role",
                       "signoffctl directory user list --role hrbp");
  list->add_option("--department", list_args->department, "department id");
  list->add_option("--role", list_args->role, "role name");
  list->add_option("--limit", list_args->limit, "at most this many")->check(CLI::Range(1, 100000))->capture_default_str();
  list->callback([&cli, list_args] { cli.run = [&cli, list_args] { return ListUsers(cli, *list_args); }; });

  auto id = std::make_shared<std::string>();
  auto* get = Command(*user, "get", "show a user, their department and managers",
                      "signoffctl directory user get bob.zhang");
  get->add_option("id", *id, "user id")->required();
  get->callback([&cli, id] { cli.run = [&cli, id] { return GetUser(cli, *id); }; });
}

}  // namespace signoff::cli
