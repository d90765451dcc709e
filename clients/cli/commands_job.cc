// `job` and `incident`: work SYSTEM steps as a job worker, and resolve the
// incidents of jobs that ran out of retries.
#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"
#include "workflow/yaml_mapping.h"

namespace signoff::cli {

namespace {

using Stub = v1::JobService::Stub;

// How long past its --wait an activation may take to answer.
constexpr double kWaitMarginSeconds = 5;

// A duration such as "30s", "5m" or "1h30m", for `option`; negative ones
// and anything else are usage errors.
absl::StatusOr<google::protobuf::Duration> ParseDurationOption(const std::string& option,
                                                              const std::string& text) {
  absl::Duration parsed;
  if (!absl::ParseDuration(text, &parsed) || parsed < absl::ZeroDuration()) {
    return UsageError(
        absl::StrCat(option, ": '", text, "' is not a duration such as 30s, 5m or 1h30m"));
  }
  google::protobuf::Duration duration;
  duration.set_seconds(absl::ToInt64Seconds(parsed));
  duration.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(parsed - absl::Seconds(duration.seconds()))));
  return duration;
}

struct ActivateArgs {
  std::string type;
  std::string worker;
  int max_jobs = 1;
  std::string lease = "30s";
  std::string wait = "0s";
};

struct WorkArgs {
  std::string key;
  std::string request_id;
  std::string result;
  std::string comment;
  int retries = 0;
  std::string backoff = "0s";
  std::string message;
  std::string code;
  std::string RequestId() const { return request_id.empty() ? NewRequestId() : request_id; }
};

struct IncidentArgs {
  std::string id;
  std::string definition;
  std::string instance;
  bool all = false;
  int retries = 3;
  std::string comment;
  std::string request_id;
  std::string RequestId() const { return request_id.empty() ? NewRequestId() : request_id; }
};

void PrintJobs(const v1::ActivateJobsResponse& response) {
  if (response.jobs().empty()) {
    std::cout << "no jobs\n";
    return;
  }
  Table table({"KEY", "TYPE", "INSTANCE", "STEP", "DEFINITION", "RETRIES", "DEADLINE"});
  for (const auto& job : response.jobs()) {
    table.Add({job.key(), job.type(), job.instance_id(), job.step_id(),
               absl::StrCat(job.definition_key(), "@", job.definition_version()),
               absl::StrCat(job.retries_left()), ShowTime(job.deadline(), absl::UTCTimeZone())});
  }
  table.Print();
}

void PrintIncidents(const std::vector<v1::Incident>& incidents) {
  Table table({"ID", "STATUS", "DEFINITION", "INSTANCE", "STEP", "TYPE", "RAISED", "MESSAGE"});
  for (const auto& incident : incidents) {
    std::string status = incident.status() == v1::INCIDENT_OPEN ? "OPEN" : "RESOLVED";
    if (!incident.resolution().empty()) absl::StrAppend(&status, " (", incident.resolution(), ")");
    table.Add({incident.id(), status, incident.definition_key(), incident.instance_id(),
               incident.step_id(), incident.job_type(),
               ShowTime(incident.created_at(), absl::UTCTimeZone()), incident.message()});
  }
  table.Print();
}

void PrintJobOutcome(const v1::JobResponse& response) {
  const v1::InstanceView& instance = response.instance();
  std::cout << "instance " << instance.id() << " "
            << Name(v1::InstanceStatus_Name(instance.status()));
  if (!instance.active_steps().empty()) {
    std::cout << ", at " << absl::StrJoin(instance.active_steps(), ", ");
  }
  std::cout << "\n";
  if (response.has_incident()) {
    std::cout << "incident " << response.incident().id() << " raised: "
              << response.incident().message() << "\n";
  }
}

absl::Status Activate(Cli& cli, const ActivateArgs& args) {
  v1::ActivateJobsRequest request;
  request.set_type(args.type);
  request.set_worker(args.worker);
  request.set_max_jobs(args.max_jobs);
  auto lease = ParseDurationOption("--lease", args.lease);
  if (!lease.ok()) return lease.status();
  auto wait = ParseDurationOption("--wait", args.wait);
  if (!wait.ok()) return wait.status();
  *request.mutable_lease() = *lease;
  *request.mutable_request_timeout() = *wait;
  // The call may wait for a job for as long as --wait says.
  cli.globals.timeout_seconds = std::max(
      cli.globals.timeout_seconds, static_cast<double>(wait->seconds()) + kWaitMarginSeconds);
  return Show(cli, cli.Connect().Call(cli.Connect().jobs(), &Stub::ActivateJobs, request),
              PrintJobs);
}

absl::Status Complete(Cli& cli, const WorkArgs& args) {
  v1::CompleteJobRequest request;
  request.set_request_id(args.RequestId());
  request.set_key(args.key);
  request.set_comment(args.comment);
  if (!args.result.empty()) {
    auto result = workflow::ParseFormYaml(args.result, "--result");
    if (!result.ok()) return UsageError(std::string(result.status().message()));
    *request.mutable_result() = *result;
  }
  return Show(cli, cli.Connect().Call(cli.Connect().jobs(), &Stub::CompleteJob, request),
              PrintJobOutcome);
}

absl::Status Fail(Cli& cli, const WorkArgs& args) {
  v1::FailJobRequest request;
  request.set_request_id(args.RequestId());
  request.set_key(args.key);
  request.set_retries_left(args.retries);
  auto backoff = ParseDurationOption("--backoff", args.backoff);
  if (!backoff.ok()) return backoff.status();
  *request.mutable_backoff() = *backoff;
  request.set_message(args.message);
  return Show(cli, cli.Connect().Call(cli.Connect().jobs(), &Stub::FailJob, request),
              PrintJobOutcome);
}

absl::Status Throw(Cli& cli, const WorkArgs& args) {
  v1::ThrowErrorRequest request;
  request.set_request_id(args.RequestId());
  request.set_key(args.key);
  request.set_code(args.code);
  request.set_message(args.message);
  return Show(cli, cli.Connect().Call(cli.Connect().jobs(), &Stub::ThrowError, request),
              PrintJobOutcome);
}

// Every page, so that a table shows them all.
absl::Status ListIncidents(Cli& cli, const IncidentArgs& args) {
  v1::ListIncidentsRequest request;
  request.set_definition_key(args.definition);
  request.set_instance_id(args.instance);
  request.set_include_resolved(args.all);
  v1::ListIncidentsResponse all;
  do {
    auto page = cli.Connect().Call(cli.Connect().jobs(), &Stub::ListIncidents, request);
    if (!page.ok()) return page.status();
    for (const auto& incident : page->incidents()) *all.add_incidents() = incident;
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  if (cli.json()) {
    PrintJson(all);
  } else {
    PrintIncidents({all.incidents().begin(), all.incidents().end()});
  }
  return absl::OkStatus();
}

absl::Status Resolve(Cli& cli, const IncidentArgs& args, bool retry) {
  v1::ResolveIncidentRequest request;
  request.set_request_id(args.RequestId());
  request.set_id(args.id);
  request.set_comment(args.comment);
  if (retry) {
    request.set_retry_with_retries(args.retries);
  } else {
    request.set_cancel_instance(true);
  }
  return Show(cli, cli.Connect().Call(cli.Connect().jobs(), &Stub::ResolveIncident, request),
              [](const v1::IncidentResponse& response) {
                std::cout << "incident " << response.incident().id() << " "
                          << response.incident().resolution() << "; instance "
                          << response.instance().id() << " "
                          << Name(v1::InstanceStatus_Name(response.instance().status())) << "\n";
              });
}

CLI::App* WorkCommand(CLI::App& noun, const std::string& name, const std::string& description,
                      const std::string& example, WorkArgs& args) {
  CLI::App* command = Command(noun, name, description, example);
  command->add_option("key", args.key, "the job's key, as activate gave it")->required();
  command->add_option("--request-id", args.request_id, "idempotency key; repeating it is safe");
  return command;
}

void AddJobNoun(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "job", "work SYSTEM steps as a job worker (service accounts)",
                     {"signoffctl --as svc-risk-engine job activate --type risk-check "
                      "--worker re-1",
                      "signoffctl --as svc-risk-engine job complete i0001-t2.1 --result "
                      "'{risk_level: high, score: 91}'"});
  auto activate_args = std::make_shared<ActivateArgs>();
  auto* activate = Command(*noun, "activate", "lease jobs of a type, waiting up to --wait for one",
                           "signoffctl --as svc-risk-engine job activate --type risk-check "
                           "--worker re-1 --max 5 --lease 1m --wait 10s");
  activate->add_option("--type", activate_args->type, "job type")->required();
  activate->add_option("--worker", activate_args->worker, "this worker's name")->required();
  activate->add_option("--max", activate_args->max_jobs, "at most this many jobs (1-100)")
      ->capture_default_str();
  activate->add_option("--lease", activate_args->lease, "how long the jobs are held (1s-1h)")
      ->capture_default_str();
  activate->add_option("--wait", activate_args->wait,
                       "how long to wait when none is available (0-60s)")
      ->capture_default_str();
  activate->callback([&cli, activate_args] {
    cli.run = [&cli, activate_args] { return Activate(cli, *activate_args); };
  });

  auto work = std::make_shared<WorkArgs>();
  auto* complete = WorkCommand(*noun, "complete", "complete a job with its result",
                               "signoffctl --as svc-risk-engine job complete i0001-t2.1 "
                               "--result '{\"risk_level\": \"low\"}'",
                               *work);
  complete->add_option("--result", work->result, "the result, a JSON or YAML mapping");
  complete->add_option("--comment", work->comment, "a comment for the trail");
  complete->callback([&cli, work] { cli.run = [&cli, work] { return Complete(cli, *work); }; });

  auto* fail = WorkCommand(*noun, "fail", "fail a job: retried after --backoff while retries last",
                           "signoffctl --as svc-risk-engine job fail i0001-t2.1 --retries 2 "
                           "--backoff 30s --message 'bureau unreachable'",
                           *work);
  fail->add_option("--retries", work->retries, "retries left (0 raises an incident)")->required();
  fail->add_option("--backoff", work->backoff, "wait before the job is offered again")
      ->capture_default_str();
  fail->add_option("--message", work->message, "what went wrong");
  fail->callback([&cli, work] { cli.run = [&cli, work] { return Fail(cli, *work); }; });

  auto* thrown = WorkCommand(*noun, "throw", "end a job with a business error the step routes",
                             "signoffctl --as svc-doc-check job throw i0001-t1.1 "
                             "--code documents-missing",
                             *work);
  thrown->add_option("--code", work->code, "one of the step's error codes")->required();
  thrown->add_option("--message", work->message, "what the error is about");
  thrown->callback([&cli, work] { cli.run = [&cli, work] { return Throw(cli, *work); }; });
}

void AddIncidentNoun(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "incident", "list and resolve the incidents of jobs",
                     {"signoffctl --as carl.yuan incident list",
                      "signoffctl --as carl.yuan incident retry i0001-t2.i1 --retries 3"});
  auto args = std::make_shared<IncidentArgs>();
  auto* list = Command(*noun, "list", "list open incidents, oldest first",
                       "signoffctl --as carl.yuan incident list --definition merchant-onboarding");
  list->add_option("--definition", args->definition, "only this definition's");
  list->add_option("--instance", args->instance, "only this instance's");
  list->add_flag("--all", args->all, "resolved ones too");
  list->callback([&cli, args] { cli.run = [&cli, args] { return ListIncidents(cli, *args); }; });

  auto* retry = Command(*noun, "retry", "offer the job again with fresh retries",
                        "signoffctl --as carl.yuan incident retry i0001-t2.i1 --retries 3");
  retry->add_option("id", args->id, "incident id")->required();
  retry->add_option("--retries", args->retries, "retries the job gets (1-100)")
      ->capture_default_str();
  retry->add_option("--comment", args->comment, "why");
  retry->add_option("--request-id", args->request_id, "idempotency key; repeating it is safe");
  retry->callback([&cli, args] { cli.run = [&cli, args] { return Resolve(cli, *args, true); }; });

  auto* cancel = Command(*noun, "cancel", "cancel the incident's instance",
                         "signoffctl --as carl.yuan incident cancel i0001-t2.i1 --comment "
                         "'merchant withdrew'");
  cancel->add_option("id", args->id, "incident id")->required();
  cancel->add_option("--comment", args->comment, "why");
  cancel->add_option("--request-id", args->request_id, "idempotency key; repeating it is safe");
  cancel->callback([&cli, args] { cli.run = [&cli, args] { return Resolve(cli, *args, false); }; });
}

}  // namespace

void AddJobCommands(CLI::App& app, Cli& cli) {
  AddJobNoun(app, cli);
  AddIncidentNoun(app, cli);
}

}  // namespace signoff::cli
