#include "workloads.h"

#include <chrono>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace signoff::bench {

namespace {

// Every call carries one, so that a stuck server ends a run with errors
// instead of hanging it.
constexpr auto kCallDeadline = std::chrono::seconds(30);

// The shipped definition the decisions run on: its first step is a plain
// approval by the applicant's manager, and a dealer may have many open
// applications.
constexpr char kDefinition[] = "dealer-application";

void PrepareContext(grpc::ClientContext& context, const std::string& user) {
  if (!user.empty()) context.AddMetadata("x-signoff-user", user);
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

std::string ErrorText(const grpc::Status& status) {
  return absl::StrCat("code ", static_cast<int>(status.error_code()), ": ", status.error_message());
}

v1::StartInstanceRequest StartRequest(const std::string& request_id) {
  v1::StartInstanceRequest request;
  request.set_request_id(request_id);
  request.set_definition_key(kDefinition);
  auto& fields = *request.mutable_form()->mutable_fields();
  fields["dealer_id"].set_string_value("D-1001");
  fields["application_type"].set_string_value("account");
  fields["region"].set_string_value("sales-east");
  fields["description"].set_string_value(absl::StrCat("benchmark application ", request_id));
  return request;
}

// The id of `approver`'s pending task in a start's reply, or "" when it
// holds none.
std::string FindApproverTask(const v1::InstanceResponse& reply, const std::string& approver) {
  for (const auto& task : reply.instance().pending_tasks()) {
    if (task.assignee() == approver) return task.id();
  }
  return "";
}

// The callback that ends `call` (which has a `sent` time): reports its
// status and its latency.
template <typename Call>
std::function<void(grpc::Status)> Finish(std::shared_ptr<Call> call, OperationDone done) {
  return [call, done = std::move(done)](grpc::Status status) {
    done(status.ok(), absl::Now() - call->sent, status.ok() ? "" : ErrorText(status));
  };
}

// One StartInstance in flight; `then` gets its status and reply.
struct StartCall {
  grpc::ClientContext context;
  v1::StartInstanceRequest request;
  v1::InstanceResponse reply;
  absl::Time sent;
};

using StartThen = std::function<void(const grpc::Status&, const v1::InstanceResponse&, absl::Duration)>;

void SendStart(v1::InstanceService::Stub& stub, const std::string& applicant,
               const std::string& request_id, StartThen then) {
  auto call = std::make_shared<StartCall>();
  PrepareContext(call->context, applicant);
  call->request = StartRequest(request_id);
  call->sent = absl::Now();
  stub.async()->StartInstance(&call->context, &call->request, &call->reply,
                              [call, then = std::move(then)](grpc::Status status) {
                                then(status, call->reply, absl::Now() - call->sent);
                              });
}

struct DecideCall {
  grpc::ClientContext context;
  v1::DecideTaskRequest request;
  v1::DecideTaskResponse reply;
  absl::Time sent;
};

// DecideTask APPROVE, measured from its send.
void SendApproval(v1::TaskService::Stub& stub, const std::string& approver,
                  const std::string& task_id, const std::string& request_id, OperationDone done) {
  auto call = std::make_shared<DecideCall>();
  PrepareContext(call->context, approver);
  call->request.set_request_id(request_id);
  call->request.set_task_id(task_id);
  call->request.set_action(v1::APPROVE);
  call->sent = absl::Now();
  stub.async()->DecideTask(&call->context, &call->request, &call->reply,
                           Finish(call, std::move(done)));
}

struct ListCall {
  grpc::ClientContext context;
  v1::ListTasksRequest request;
  v1::ListTasksResponse reply;
  absl::Time sent;
};

// The caller's inbox, as a portal shows it.
void SendInboxRead(v1::TaskService::Stub& stub, const std::string& user, OperationDone done) {
  auto call = std::make_shared<ListCall>();
  PrepareContext(call->context, user);
  call->sent = absl::Now();
  stub.async()->ListTasks(&call->context, &call->request, &call->reply,
                          Finish(call, std::move(done)));
}

struct GetCall {
  grpc::ClientContext context;
  v1::GetInstanceRequest request;
  v1::InstanceResponse reply;
  absl::Time sent;
};

struct EchoCall {
  grpc::ClientContext context;
  signoff::bench::EchoMessage request;
  signoff::bench::EchoMessage reply;
  absl::Time sent;
};

}  // namespace

std::vector<std::shared_ptr<grpc::Channel>> ConnectChannels(const std::string& address, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int n = 0; n < count; ++n) {
    grpc::ChannelArguments arguments;
    // Its own connection: channels otherwise share one subchannel.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels.push_back(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
  }
  return channels;
}

Operation EchoOperation(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  std::vector<std::shared_ptr<signoff::bench::Echo::Stub>> stubs;
  for (const auto& channel : channels) stubs.push_back(signoff::bench::Echo::NewStub(channel));
  return [stubs](uint64_t sequence, OperationDone done) {
    auto call = std::make_shared<EchoCall>();
    PrepareContext(call->context, "");
    call->request.set_payload("ping");
    call->sent = absl::Now();
    stubs[sequence % stubs.size()]->async()->Echo(&call->context, &call->request, &call->reply,
                                                  Finish(call, std::move(done)));
  };
}

namespace {

std::string& SignoffdBinary() {
  static auto* binary = new std::string(SIGNOFFD_BINARY);
  return *binary;
}

}  // namespace

void UseSignoffdBinary(const std::string& path) { SignoffdBinary() = path; }

std::vector<std::string> SignoffdCommand(const std::string& subcommand,
                                         const std::filesystem::path& database) {
  const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
  return {SignoffdBinary(), subcommand, "--db", database.string(), "--directory",
          definitions + "/demo-org.yaml", "--definitions", definitions};
}

std::vector<std::string> ServeCommand(const std::filesystem::path& database) {
  std::vector<std::string> args = SignoffdCommand("serve", database);
  for (const char* flag : {"--listen", "127.0.0.1:0", "--synchronous", "FULL"}) args.push_back(flag);
  return args;
}

std::vector<std::string> PostgresqlServeCommand(const std::string& url) {
  std::vector<std::string> args = SignoffdCommand("serve", url);
  for (const char* flag : {"--listen", "127.0.0.1:0"}) args.push_back(flag);
  return args;
}

const std::vector<Applicant>& Applicants() {
  static const auto* applicants = new std::vector<Applicant>{
      {"bob.zhang", "alice.chen"}, {"cathy.wu", "alice.chen"},  {"derek.huang", "alice.chen"},
      {"fiona.yang", "eric.zhou"}, {"george.xie", "eric.zhou"}, {"alice.chen", "ivy.wang"},
      {"eric.zhou", "jack.sun"},   {"rachel.feng", "grace.liu"}};
  return *applicants;
}

void TaskPool::Put(std::string approver, std::string task_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  tasks_.emplace_back(std::move(approver), std::move(task_id));
}

bool TaskPool::Take(std::string& approver, std::string& task_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tasks_.empty()) return false;
  approver = std::move(tasks_.back().first);
  task_id = std::move(tasks_.back().second);
  tasks_.pop_back();
  return true;
}

size_t TaskPool::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return tasks_.size();
}

SignoffOperations::SignoffOperations(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                                     std::string tag)
    : tag_(std::move(tag)) {
  for (const auto& channel : channels) {
    auto stubs = std::make_shared<Stubs>();
    stubs->instances = v1::InstanceService::NewStub(channel);
    stubs->tasks = v1::TaskService::NewStub(channel);
    stubs_.push_back(std::move(stubs));
  }
}

const SignoffOperations::Stubs& SignoffOperations::StubsFor(uint64_t sequence) const {
  return *stubs_[sequence % stubs_.size()];
}

Operation SignoffOperations::Decision() const {
  return [this](uint64_t sequence, OperationDone done) {
    const Applicant& who = Applicants()[sequence % Applicants().size()];
    const Stubs& stubs = StubsFor(sequence);
    const std::string id = absl::StrCat(tag_, "-", sequence);
    SendStart(*stubs.instances, who.applicant, absl::StrCat("start-", id),
              [&stubs, who, id, done](const grpc::Status& status,
                                      const v1::InstanceResponse& reply, absl::Duration) {
                if (!status.ok()) return done(false, absl::ZeroDuration(), ErrorText(status));
                const std::string task_id = FindApproverTask(reply, who.approver);
                if (task_id.empty()) {
                  return done(false, absl::ZeroDuration(),
                              absl::StrCat("no task for ", who.approver, " after a start"));
                }
                SendApproval(*stubs.tasks, who.approver, task_id, absl::StrCat("approve-", id),
                             done);
              });
  };
}

Operation SignoffOperations::Start(std::shared_ptr<TaskPool> pool) const {
  return [this, pool](uint64_t sequence, OperationDone done) {
    const Applicant& who = Applicants()[sequence % Applicants().size()];
    SendStart(*StubsFor(sequence).instances, who.applicant,
              absl::StrCat("start-", tag_, "-", sequence),
              [pool, who, done](const grpc::Status& status, const v1::InstanceResponse& reply,
                                absl::Duration latency) {
                if (!status.ok()) return done(false, latency, ErrorText(status));
                if (pool != nullptr) {
                  const std::string task_id = FindApproverTask(reply, who.approver);
                  if (task_id.empty()) {
                    return done(false, latency,
                                absl::StrCat("no task for ", who.approver, " after a start"));
                  }
                  pool->Put(who.approver, task_id);
                }
                done(true, latency, "");
              });
  };
}

Operation SignoffOperations::DecisionFromPool(std::shared_ptr<TaskPool> pool) const {
  return [this, pool](uint64_t sequence, OperationDone done) {
    std::string approver;
    std::string task_id;
    if (!pool->Take(approver, task_id)) {
      return done(false, absl::ZeroDuration(), "no pending task left to decide");
    }
    SendApproval(*StubsFor(sequence).tasks, approver, task_id,
                 absl::StrCat("approve-", tag_, "-", sequence), std::move(done));
  };
}

Operation SignoffOperations::DecisionFromPoolOrStart(
    std::shared_ptr<TaskPool> pool, std::shared_ptr<std::atomic<uint64_t>> pool_misses) const {
  Operation decision = Decision();
  return [this, decision, pool, pool_misses](uint64_t sequence, OperationDone done) {
    std::string approver;
    std::string task_id;
    if (!pool->Take(approver, task_id)) {
      ++*pool_misses;
      return decision(sequence, std::move(done));
    }
    SendApproval(*StubsFor(sequence).tasks, approver, task_id,
                 absl::StrCat("approve-", tag_, "-", sequence), std::move(done));
  };
}

Operation SignoffOperations::PortalMix(std::shared_ptr<TaskPool> pool,
                                       std::shared_ptr<std::atomic<uint64_t>> pool_misses) const {
  Operation start = Start(pool);
  Operation decision = DecisionFromPoolOrStart(pool, pool_misses);
  return [this, start, decision](uint64_t sequence, OperationDone done) {
    const uint64_t slot = sequence % 9;
    if (slot == 0) return start(sequence, std::move(done));
    if (slot <= 5) {
      // Approvers read their inboxes: they are the ones with pending work.
      const Applicant& who = Applicants()[(sequence / 9) % Applicants().size()];
      return SendInboxRead(*StubsFor(sequence).tasks, who.approver, std::move(done));
    }
    decision(sequence, std::move(done));
  };
}

Operation SignoffOperations::InboxRead(const std::string& user) const {
  return [this, user](uint64_t sequence, OperationDone done) {
    SendInboxRead(*StubsFor(sequence).tasks, user, std::move(done));
  };
}

Operation SignoffOperations::GetInstance(std::shared_ptr<const std::vector<std::string>> ids,
                                         const std::string& reader) const {
  return [this, ids, reader](uint64_t sequence, OperationDone done) {
    if (ids->empty()) return done(false, absl::ZeroDuration(), "no instance to read");
    auto call = std::make_shared<GetCall>();
    PrepareContext(call->context, reader);
    call->request.set_id((*ids)[sequence % ids->size()]);
    call->sent = absl::Now();
    StubsFor(sequence).instances->async()->GetInstance(&call->context, &call->request,
                                                       &call->reply, Finish(call, std::move(done)));
  };
}

}  // namespace signoff::bench
