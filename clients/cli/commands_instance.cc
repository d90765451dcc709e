#include <iostream>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::InstanceService::Stub;

struct FormArgs {
  std::vector<std::string> pairs;
  std::string file;
};

void AddFormOptions(CLI::App& command, FormArgs& form) {
  auto* pairs = command.add_option("--form", form.pairs, "a form value, name=value (repeatable); name=@FILE uploads FILE for an attachment field");
  auto* file = command.add_option("--form-file", form.file, "form values as YAML or JSON")
                   ->check(CLI::ExistingFile);
  pairs->excludes(file);
}

// An "@FILE" value of an ATTACHMENT field: the file, uploaded, as its
// reference.
absl::Status UploadIfNamed(Cli& cli, const std::string& key, google::protobuf::Value& value) {
  if (value.kind_case() != google::protobuf::Value::kStringValue ||
      !absl::StartsWith(value.string_value(), "@")) {
    return absl::OkStatus();
  }
  const std::string path = value.string_value().substr(1);
  auto uploaded = UploadFile(cli, path, key, "", "");
  if (!uploaded.ok()) return Annotate(uploaded.status(), path);
  const v1::Attachment& attachment = uploaded->attachment();
  auto& object = *value.mutable_struct_value()->mutable_fields();
  object["sha256"].set_string_value(attachment.sha256());
  object["name"].set_string_value(attachment.name());
  object["size"].set_number_value(static_cast<double>(attachment.size()));
  object["media_type"].set_string_value(attachment.media_type());
  return absl::OkStatus();
}

absl::Status UploadAttachmentValues(Cli& cli, const std::string& key, const v1::Form& form,
                                    google::protobuf::Struct& values) {
  for (const v1::FormField& field : form.fields()) {
    auto it = values.mutable_fields()->find(field.name());
    if (it == values.mutable_fields()->end()) continue;
    if (field.type() == v1::ATTACHMENT) {
      if (absl::Status uploaded = UploadIfNamed(cli, key, it->second); !uploaded.ok()) return uploaded;
    } else if (field.type() == v1::LIST && field.item_type() == v1::ATTACHMENT &&
               it->second.kind_case() == google::protobuf::Value::kListValue) {
      for (auto& item : *it->second.mutable_list_value()->mutable_values()) {
        if (absl::Status uploaded = UploadIfNamed(cli, key, item); !uploaded.ok()) return uploaded;
      }
    }
  }
  return absl::OkStatus();
}

// Form values typed by the definition they are meant for.
absl::StatusOr<google::protobuf::Struct> FormFor(Cli& cli, const std::string& key, int32_t version,
                                                 const FormArgs& args) {
  v1::GetDefinitionRequest request;
  request.set_key(key);
  request.set_version(version);
  auto definition =
      cli.Connect().Call(cli.Connect().definitions(), &v1::DefinitionService::Stub::GetDefinition, request);
  if (!definition.ok()) return definition.status();
  auto form = BuildForm(args.pairs, args.file, definition->published().definition().form());
  if (!form.ok()) return form.status();
  if (absl::Status uploaded = UploadAttachmentValues(cli, key, definition->published().definition().form(), *form);
      !uploaded.ok()) {
    return uploaded;
  }
  return form;
}

absl::Status PrintInstanceResponse(Cli& cli, const absl::StatusOr<v1::InstanceResponse>& response) {
  return Show(cli, response, [&cli](const v1::InstanceResponse& answer) {
    const v1::InstanceView& instance = answer.instance();
    PrintInstance(instance, cli.zones().ForDefinition(instance.definition_key(), instance.definition_version()));
  });
}

absl::StatusOr<v1::InstanceStatus> ParseStatus(const std::string& text) {
  v1::InstanceStatus status = v1::INSTANCE_STATUS_UNSPECIFIED;
  if (!text.empty() && !v1::InstanceStatus_Parse(absl::AsciiStrToUpper(text), &status)) {
    return UsageError(absl::StrCat("unknown status '", text,
                                   "'; one of running, returned, approved, rejected, withdrawn, cancelled"));
  }
  return status;
}

struct ListArgs {
  std::string definition;
  std::string status;
  std::string applicant;
  std::string subject;
  bool sla_breached = false;
  std::string outcome;
  int limit = 50;
};

absl::Status List(Cli& cli, const ListArgs& args) {
  auto status = ParseStatus(args.status);
  if (!status.ok()) return status.status();
  v1::ListInstancesRequest request;
  request.set_definition_key(args.definition);
  request.set_status(*status);
  request.set_applicant(args.applicant);
  request.set_subject(args.subject);
  request.set_sla_breached(args.sla_breached);
  request.set_outcome(args.outcome);
  v1::ListInstancesResponse all;
  for (;;) {
    request.set_page_size(std::min(100, args.limit - all.instances_size()));
    auto page = cli.Connect().Call(cli.Connect().instances(), &Stub::ListInstances, request);
    if (!page.ok()) return page.status();
    for (auto& instance : *page->mutable_instances()) *all.add_instances() = std::move(instance);
    all.set_next_page_token(page->next_page_token());
    if (page->next_page_token().empty() || all.instances_size() >= args.limit) break;
    request.set_page_token(page->next_page_token());
  }
  if (cli.json()) {
    PrintJson(all);
  } else {
    PrintInstances({all.instances().begin(), all.instances().end()}, cli.ZoneOfDefinition());
  }
  return absl::OkStatus();
}

struct Args {
  std::string id;
  std::string key;
  int version = 0;
  std::string comment;
  std::string request_id;
  std::string applicant;
  std::string signal;
  std::string payload_file;
  std::string step;
  std::string by;
  std::string until;
  FormArgs form;

  std::string RequestId() const { return request_id.empty() ? NewRequestId() : request_id; }
};

absl::Status Start(Cli& cli, const Args& args) {
  auto form = FormFor(cli, args.key, args.version, args.form);
  if (!form.ok()) return form.status();
  v1::StartInstanceRequest request;
  request.set_request_id(args.RequestId());
  request.set_definition_key(args.key);
  request.set_definition_version(args.version);
  *request.mutable_form() = *form;
  return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::StartInstance, request));
}

absl::Status Preview(Cli& cli, const Args& args) {
  auto form = FormFor(cli, args.key, args.version, args.form);
  if (!form.ok()) return form.status();
  v1::PreviewRouteRequest request;
  request.set_definition_key(args.key);
  request.set_definition_version(args.version);
  request.set_applicant(args.applicant);
  *request.mutable_form() = *form;
  auto response = cli.Connect().Call(cli.Connect().instances(), &Stub::PreviewRoute, request);
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
  } else {
    PrintPreview(*response);
  }
  return absl::OkStatus();
}

// The zone of the instance's times: its trail starts with the definition
// it runs on; a trail cut at the front leaves the instance to ask.
absl::TimeZone ZoneOfTrail(Cli& cli, const std::string& instance_id, const v1::GetHistoryResponse& history) {
  for (const auto& event : history.events()) {
    if (event.has_instance_started()) {
      return cli.zones().ForDefinition(event.instance_started().definition_key(),
                                       event.instance_started().definition_version());
    }
  }
  v1::GetInstanceRequest request;
  request.set_id(instance_id);
  auto instance = cli.Connect().Call(cli.Connect().instances(), &Stub::GetInstance, request);
  if (!instance.ok()) return cli.zones().Default();
  return cli.zones().ForDefinition(instance->instance().definition_key(),
                                   instance->instance().definition_version());
}

absl::Status History(Cli& cli, const Args& args) {
  v1::GetHistoryRequest request;
  request.set_instance_id(args.id);
  auto response = cli.Connect().Call(cli.Connect().instances(), &Stub::GetHistory, request);
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
  } else {
    PrintHistory({response->events().begin(), response->events().end()}, response->chain_verified(),
                 ZoneOfTrail(cli, args.id, *response));
  }
  if (!response->chain_verified()) return BrokenChain(args.id);
  return absl::OkStatus();
}

absl::Status Resubmit(Cli& cli, const Args& args) {
  v1::GetInstanceRequest get;
  get.set_id(args.id);
  auto current = cli.Connect().Call(cli.Connect().instances(), &Stub::GetInstance, get);
  if (!current.ok()) return current.status();
  auto form = FormFor(cli, current->instance().definition_key(),
                      current->instance().definition_version(), args.form);
  if (!form.ok()) return form.status();
  // Pairs change single fields; the rest of the form stays as it was.
  if (args.form.file.empty()) {
    google::protobuf::Struct full = current->instance().form();
    for (const auto& [name, value] : form->fields()) (*full.mutable_fields())[name] = value;
    *form = full;
  }
  v1::ResubmitInstanceRequest request;
  request.set_request_id(args.RequestId());
  request.set_id(args.id);
  request.set_comment(args.comment);
  *request.mutable_form() = *form;
  return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::ResubmitInstance, request));
}

absl::Status Signal(Cli& cli, const Args& args) {
  v1::SignalInstanceRequest request;
  if (!args.payload_file.empty()) {
    auto payload = ReadValuesFile(args.payload_file, "the payload");
    if (!payload.ok()) return payload.status();
    *request.mutable_payload() = *payload;
  }
  request.set_request_id(args.RequestId());
  request.set_id(args.id);
  request.set_name(args.signal);
  return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::SignalInstance, request));
}

enum class WaitChange { kPause, kResume, kExtend };

// Pauses, resumes or extends a WAIT step's deadline, then shows the
// instance with its waits (or, with -o json, the clock reply).
absl::Status ChangeWait(Cli& cli, const Args& args, WaitChange change) {
  v1::WaitRef wait;
  wait.set_instance_id(args.id);
  wait.set_step_id(args.step);
  absl::StatusOr<v1::ClockResponse> changed;
  if (change == WaitChange::kExtend) {
    v1::ExtendDeadlineRequest request;
    request.set_request_id(args.RequestId());
    request.set_comment(args.comment);
    *request.mutable_wait() = wait;
    if (absl::Status filled = FillExtension(args.by, args.until, request); !filled.ok()) {
      return filled;
    }
    changed = cli.Connect().Call(cli.Connect().tasks(), &v1::TaskService::Stub::ExtendDeadline,
                                 request);
  } else {
    v1::ClockRequest request;
    request.set_request_id(args.RequestId());
    request.set_comment(args.comment);
    *request.mutable_wait() = wait;
    changed = cli.Connect().Call(cli.Connect().tasks(),
                                 change == WaitChange::kPause ? &v1::TaskService::Stub::PauseClock
                                                              : &v1::TaskService::Stub::ResumeClock,
                                 request);
  }
  if (!changed.ok()) return changed.status();
  if (cli.json()) {
    PrintJson(*changed);
    return absl::OkStatus();
  }
  v1::GetInstanceRequest get;
  get.set_id(args.id);
  return PrintInstanceResponse(cli,
                               cli.Connect().Call(cli.Connect().instances(), &Stub::GetInstance, get));
}

template <typename Request>
Request WithIdAndComment(const Args& args) {
  Request request;
  request.set_request_id(args.RequestId());
  request.set_id(args.id);
  request.set_comment(args.comment);
  return request;
}

CLI::App* WithId(CLI::App* command, Args& args) {
  command->add_option("id", args.id, "instance id")->required();
  return command;
}

void AddCommonChangeOptions(CLI::App& command, Args& args, bool comment_required) {
  auto* comment = command.add_option("--comment", args.comment, "why");
  if (comment_required) comment->required();
  command.add_option("--request-id", args.request_id, "idempotency key; repeating it is safe");
}

}  // namespace

void AddInstanceCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "instance", "start, inspect and manage process instances",
                     {"signoffctl instance list --definition dealer-claim --status running",
                      "signoffctl --tz UTC instance get i0001"});
  auto args = std::make_shared<Args>();

  auto* start = Command(*noun, "start", "start an instance of a definition",
                        "signoffctl --as bob.zhang instance start dealer-application --form dealer_id=D-1 "
                        "--form application_type=account --form region=sales-east --form description=New");
  start->add_option("key", args->key, "definition key")->required();
  start->add_option("--version", args->version, "definition version (default: latest)");
  AddFormOptions(*start, args->form);
  start->add_option("--request-id", args->request_id, "idempotency key; repeating it is safe");
  start->callback([&cli, args] { cli.run = [&cli, args] { return Start(cli, *args); }; });

  auto* preview = Command(*noun, "preview", "show who would approve each step, starting nothing",
                          "signoffctl --as bob.zhang instance preview probation-review --form-file form.yaml");
  preview->add_option("key", args->key, "definition key")->required();
  preview->add_option("--version", args->version, "definition version (default: latest)");
  preview->add_option("--applicant", args->applicant, "preview for this applicant (default: you)");
  AddFormOptions(*preview, args->form);
  preview->callback([&cli, args] { cli.run = [&cli, args] { return Preview(cli, *args); }; });

  auto list_args = std::make_shared<ListArgs>();
  auto* list = Command(*noun, "list", "list instances, newest first",
                       "signoffctl instance list --definition probation-review --status running");
  list->add_option("--definition", list_args->definition, "definition key");
  list->add_option("--status", list_args->status, "running, returned, approved, rejected, withdrawn, cancelled");
  list->add_option("--applicant", list_args->applicant, "applicant user id");
  list->add_option("--subject", list_args->subject, "subject (dealer, employee, ...)");
  list->add_flag("--sla-breached", list_args->sla_breached, "only instances where some step missed its deadline");
  list->add_option("--outcome", list_args->outcome, "only instances that finished with this named outcome (KEPT, TERMINATED, ...)");
  list->add_option("--limit", list_args->limit, "at most this many")->check(CLI::Range(1, 100000))->capture_default_str();
  list->callback([&cli, list_args] { cli.run = [&cli, list_args] { return List(cli, *list_args); }; });

  auto* get = WithId(Command(*noun, "get", "show an instance and its pending tasks",
                             "signoffctl instance get i0001"), *args);
  get->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::GetInstanceRequest request;
      request.set_id(args->id);
      return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::GetInstance, request));
    };
  });

  auto* history = WithId(Command(*noun, "history", "show the audit trail and check its hash chain",
                                 "signoffctl instance history i0001"), *args);
  history->callback([&cli, args] { cli.run = [&cli, args] { return History(cli, *args); }; });

  auto* withdraw = WithId(Command(*noun, "withdraw", "take back your own instance",
                                  "signoffctl --as bob.zhang instance withdraw i0001"), *args);
  AddCommonChangeOptions(*withdraw, *args, false);
  withdraw->callback([&cli, args] {
    cli.run = [&cli, args] {
      return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::WithdrawInstance,
                                                           WithIdAndComment<v1::WithdrawInstanceRequest>(*args)));
    };
  });

  auto* resubmit = WithId(Command(*noun, "resubmit", "send a returned instance again with a corrected form",
                                  "signoffctl --as bob.zhang instance resubmit i0001 --form amount=1200"), *args);
  AddFormOptions(*resubmit, args->form);
  AddCommonChangeOptions(*resubmit, *args, false);
  resubmit->callback([&cli, args] { cli.run = [&cli, args] { return Resubmit(cli, *args); }; });

  auto* appeal = WithId(Command(*noun, "appeal", "contest a rejection within the definition's window",
                                "signoffctl --as bob.zhang instance appeal i0001 --comment 'licence attached'"), *args);
  AddCommonChangeOptions(*appeal, *args, true);
  appeal->callback([&cli, args] {
    cli.run = [&cli, args] {
      return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::AppealInstance,
                                                           WithIdAndComment<v1::AppealInstanceRequest>(*args)));
    };
  });

  auto* signal = WithId(Command(*noun, "signal", "send a signal that a WAIT step of the instance waits for",
                                "signoffctl --as svc-kpi-monitor instance signal i0001 kpi_recovered "
                                "--payload-file kpis.yaml"), *args);
  signal->add_option("name", args->signal, "the signal's name, as the definition's WAIT step names it")->required();
  signal->add_option("--payload-file", args->payload_file, "data recorded with the signal, as YAML or JSON")
      ->check(CLI::ExistingFile);
  signal->add_option("--request-id", args->request_id, "idempotency key; repeating it is safe");
  signal->callback([&cli, args] { cli.run = [&cli, args] { return Signal(cli, *args); }; });

  auto* wait = Command(*noun, "wait",
                       "pause, resume or extend a WAIT step's deadline where the definition "
                       "allows it (administrators and the definition's service accounts)",
                       "signoffctl --as carl.yuan instance wait extend i0001 rectification --by 5d");
  wait->require_subcommand(1);
  for (const auto& [verb, change, what] :
       std::vector<std::tuple<std::string, WaitChange, std::string>>{
           {"pause", WaitChange::kPause, "stop the wait running out; it keeps what it had left"},
           {"resume", WaitChange::kResume, "let a paused wait run on for what it had left"},
           {"extend", WaitChange::kExtend, "move the wait's end later, by a span or to a time"}}) {
    auto* command = WithId(Command(*wait, verb, what,
                                   absl::StrCat("signoffctl --as carl.yuan instance wait ", verb,
                                                " i0001 rectification",
                                                verb == "extend" ? " --by 5d" : "")),
                           *args);
    command->add_option("step", args->step, "the WAIT step's id")->required();
    if (change == WaitChange::kExtend) {
      auto* by = command->add_option("--by", args->by, "how much later, e.g. 2d, 4h or 1d4h");
      auto* until = command->add_option("--until", args->until, "the new end, RFC 3339");
      by->excludes(until);
    }
    AddCommonChangeOptions(*command, *args, false);
    const WaitChange chosen = change;
    command->callback([&cli, args, chosen] {
      cli.run = [&cli, args, chosen] { return ChangeWait(cli, *args, chosen); };
    });
  }

  auto* cancel = WithId(Command(*noun, "cancel", "stop an instance (administrators)",
                                "signoffctl --as carl.yuan instance cancel i0001 --comment duplicate"), *args);
  AddCommonChangeOptions(*cancel, *args, true);
  cancel->callback([&cli, args] {
    cli.run = [&cli, args] {
      return PrintInstanceResponse(cli, cli.Connect().Call(cli.Connect().instances(), &Stub::CancelInstance,
                                                           WithIdAndComment<v1::CancelInstanceRequest>(*args)));
    };
  });
}

}  // namespace signoff::cli
