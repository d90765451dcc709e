#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::cli {

namespace {

using Stub = v1::DefinitionService::Stub;

void PrintProblems(const std::string& file, const v1::ValidateDefinitionResponse& response) {
  if (response.valid()) {
    std::cout << file << ": valid (" << response.definition().key() << ")\n";
    return;
  }
  std::cout << file << ": " << response.problems_size() << " problem(s)\n";
  for (const auto& problem : response.problems()) {
    std::cout << "  " << (problem.path().empty() ? "(file)" : problem.path()) << ": "
              << problem.message() << "\n";
  }
}

// The same checks as the server's, without a directory to check names
// against.
v1::ValidateDefinitionResponse ValidateOffline(const std::string& yaml) {
  v1::ValidateDefinitionResponse response;
  v1::WorkflowDefinition definition;
  for (auto& problem : workflow::ParseYamlInto(yaml, definition)) {
    *response.add_problems() = std::move(problem);
  }
  if (response.problems_size() == 0) {
    for (auto& problem : workflow::ValidateDefinition(definition)) {
      *response.add_problems() = std::move(problem);
    }
    *response.mutable_definition() = definition;
  }
  response.set_valid(response.problems_size() == 0);
  return response;
}

absl::Status Validate(Cli& cli, const std::vector<std::string>& files, bool offline) {
  int invalid = 0;
  for (const auto& file : files) {
    auto yaml = ReadFile(file);
    if (!yaml.ok()) return yaml.status();
    v1::ValidateDefinitionResponse response;
    if (offline) {
      response = ValidateOffline(*yaml);
    } else {
      v1::ValidateDefinitionRequest request;
      request.mutable_source()->set_yaml(*yaml);
      auto answered = cli.Connect().Call(cli.Connect().definitions(), &Stub::ValidateDefinition, request);
      if (!answered.ok()) return answered.status();
      response = *answered;
    }
    invalid += !response.valid();
    if (cli.json()) {
      PrintJson(response);
    } else {
      PrintProblems(file, response);
    }
  }
  if (invalid > 0) {
    return absl::InvalidArgumentError(absl::StrCat(invalid, " of ", files.size(),
                                                   " definition(s) are invalid"));
  }
  return absl::OkStatus();
}

absl::Status Publish(Cli& cli, const std::string& file, const std::string& yaml,
                     const std::string& request_id) {
  v1::PublishDefinitionRequest request;
  request.set_request_id(request_id);
  request.mutable_source()->set_yaml(yaml);
  return Show(cli, cli.Connect().Call(cli.Connect().definitions(), &Stub::PublishDefinition, request),
              [&file](const v1::PublishDefinitionResponse& response) {
                std::cout << (response.unchanged() ? "unchanged: " : "published ")
                          << response.published().key() << " version "
                          << response.published().version() << " from " << file << "\n";
              });
}

absl::Status Get(Cli& cli, const std::string& reference) {
  auto parsed = ParseReference(reference, "probation-review@2");
  if (!parsed.ok()) return parsed.status();
  v1::GetDefinitionRequest request;
  request.set_key(parsed->name);
  request.set_version(parsed->version);
  auto response = cli.Connect().Call(cli.Connect().definitions(), &Stub::GetDefinition, request);
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
    return absl::OkStatus();
  }
  const auto& published = response->published();
  const std::string& calendar = published.definition().calendar();
  std::cout << "Key:        " << published.key() << "\nVersion:    " << published.version()
            << "\nName:       " << published.definition().name()
            << "\nCalendar:   " << (calendar.empty() ? "-" : calendar)
            << "\nPublished:  " << ShowTime(published.published_at(), cli.zones().ForCalendar(calendar))
            << " by " << published.published_by() << "\n";
  Table steps({"STEP", "KIND", "NAME", "NEXT"});
  for (const auto& step : published.definition().steps()) {
    std::string next;
    for (const auto& route : step.next()) {
      next += (next.empty() ? "" : ",") + route.to() + (route.has_when() ? "?" : "");
    }
    steps.Add({step.id(), step.kind_case() == v1::Step::KIND_NOT_SET
                              ? ""
                              : step.GetDescriptor()->FindFieldByNumber(step.kind_case())->name(),
               step.name(), next});
  }
  steps.Print();
  return absl::OkStatus();
}

absl::Status List(Cli& cli) {
  auto response = cli.Connect().Call(cli.Connect().definitions(), &Stub::ListDefinitions,
                                     v1::ListDefinitionsRequest());
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
    return absl::OkStatus();
  }
  Table table({"KEY", "NAME", "LATEST", "PUBLISHED"});
  // A summary does not say which calendar its definition counts on, and a
  // lookup per row would cost a call each: the local zone (or --tz).
  const absl::TimeZone zone = cli.zones().Default();
  for (const auto& summary : response->definitions()) {
    table.Add({summary.key(), summary.name(), absl::StrCat(summary.latest_version()),
               ShowTime(summary.published_at(), zone)});
  }
  table.Print();
  return absl::OkStatus();
}

}  // namespace

void AddDefinitionCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "definition", "validate, publish and read process definitions",
                     {"signoffctl definition list",
                      "signoffctl definition validate --offline workflow/definitions/dealer-claim.yaml"});

  struct ValidateArgs {
    std::vector<std::string> files;
    bool offline = false;
  };
  auto validate_args = std::make_shared<ValidateArgs>();
  auto* validate = Command(*noun, "validate", "report every problem of definition files",
                           "signoffctl definition validate --offline workflow/definitions/probation-review.yaml");
  validate->add_option("files", validate_args->files, "definition YAML files")->required()->check(CLI::ExistingFile);
  validate->add_flag("--offline", validate_args->offline,
                     "check locally, without a server (names are not checked against the directory)");
  validate->callback([&cli, validate_args] {
    cli.run = [&cli, validate_args] { return Validate(cli, validate_args->files, validate_args->offline); };
  });

  AddPublishCommand(*noun, cli, "publish each file as the next version of its key",
                    "signoffctl --as carl.yuan definition publish dealer-application.yaml",
                    "definition YAML files", Publish);

  auto* list = Command(*noun, "list", "list published definitions", "signoffctl definition list");
  list->callback([&cli] { cli.run = [&cli] { return List(cli); }; });

  AddGetCommand(*noun, cli, "show a definition, the latest or KEY@VERSION",
                "signoffctl definition get probation-review@1", "KEY or KEY@VERSION", Get);
}

void AddHealthCommand(CLI::App& app, Cli& cli) {
  auto* health = Command(app, "health", "check signoffd's liveness and readiness",
                         "signoffctl --address 127.0.0.1:50051 health");
  health->callback([&cli] {
    cli.run = [&cli]() -> absl::Status {
      Table table({"SERVICE", "STATUS"});
      bool all_serving = true;
      std::string json = "{";
      for (const std::string service : {"liveness", "readiness"}) {
        grpc::health::v1::HealthCheckRequest request;
        request.set_service(service);
        auto response = cli.Connect().Call(cli.Connect().health(),
                                           &grpc::health::v1::Health::Stub::Check, request);
        if (!response.ok()) return response.status();
        const std::string status =
            grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response->status());
        all_serving = all_serving && response->status() == grpc::health::v1::HealthCheckResponse::SERVING;
        table.Add({service, status});
        json += absl::StrCat(json.size() > 1 ? "," : "", "\"", service, "\":\"", status, "\"");
      }
      if (cli.json()) {
        std::cout << json << "}\n";
      } else {
        table.Print();
      }
      if (!all_serving) return absl::UnavailableError("signoffd is not serving");
      return absl::OkStatus();
    };
  });
}

}  // namespace signoff::cli
