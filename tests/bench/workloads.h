#pragma once

// The calls the benchmark measures, as Operations for the load generator:
// the echo baseline and signoffd's decisions, starts and portal mix.

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bench/echo.grpc.pb.h"
#include "load.h"
#include "signoff/v1/service.grpc.pb.h"

namespace signoff::bench {

// Several connections to one server, so that many clients are not all
// multiplexed on one HTTP/2 connection.
std::vector<std::shared_ptr<grpc::Channel>> ConnectChannels(const std::string& address, int count);

Operation EchoOperation(const std::vector<std::shared_ptr<grpc::Channel>>& channels);

// signoffd's command line for `subcommand` on `database`, with the demo
// organisation and the shipped definitions (published when they changed).
// Measures another signoffd build (e.g. an earlier release's) than the one
// built beside the benchmark, so that two builds compare in one session.
void UseSignoffdBinary(const std::string& path);

std::vector<std::string> SignoffdCommand(const std::string& subcommand,
                                         const std::filesystem::path& database);
// signoffd serving `database` on a free loopback port, durably
// (synchronous=FULL).
std::vector<std::string> ServeCommand(const std::filesystem::path& database);
// signoffd serving the PostgreSQL database at `url` on a free loopback
// port, with the same organisation and definitions.
std::vector<std::string> PostgresqlServeCommand(const std::string& url);

// An applicant of the demo organisation and the manager whose task their
// dealer application opens with (the crash suite's pairs).
struct Applicant {
  std::string applicant;
  std::string approver;
};
const std::vector<Applicant>& Applicants();

// Pending first-step tasks, made by starts and taken by decisions.
class TaskPool {
 public:
  void Put(std::string approver, std::string task_id);
  // False when the pool is empty.
  bool Take(std::string& approver, std::string& task_id);
  size_t size();

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> tasks_;
};

// The signoffd calls of one run; `tag` makes its request ids unique among
// all runs against the same database.
class SignoffOperations {
 public:
  SignoffOperations(const std::vector<std::shared_ptr<grpc::Channel>>& channels, std::string tag);

  // StartInstance, then DecideTask APPROVE on the manager's task; only the
  // decision is measured.
  Operation Decision() const;
  // DecideTask APPROVE on a task taken from `pool`; an error when it is
  // empty.
  Operation DecisionFromPool(std::shared_ptr<TaskPool> pool) const;
  // DecideTask APPROVE on a task taken from `pool`; when it is empty, a
  // StartInstance first, unmeasured, counted in `pool_misses`.
  Operation DecisionFromPoolOrStart(std::shared_ptr<TaskPool> pool,
                                    std::shared_ptr<std::atomic<uint64_t>> pool_misses) const;
  // StartInstance; when `pool` is given, the manager's task goes into it.
  Operation Start(std::shared_ptr<TaskPool> pool = nullptr) const;
  // Of every 9 calls: 1 start, 5 inbox reads (ListTasks), 3 decisions on
  // tasks from `pool`. A decision that finds the pool empty starts its own
  // instance first, unmeasured, and counts in `pool_misses`.
  Operation PortalMix(std::shared_ptr<TaskPool> pool,
                      std::shared_ptr<std::atomic<uint64_t>> pool_misses) const;
  // ListTasks as `user` with no filter: the inbox a portal shows.
  Operation InboxRead(const std::string& user) const;
  // GetInstance as `reader`, on the ids in turn.
  Operation GetInstance(std::shared_ptr<const std::vector<std::string>> ids,
                        const std::string& reader) const;

 private:
  struct Stubs {
    std::unique_ptr<v1::InstanceService::Stub> instances;
    std::unique_ptr<v1::TaskService::Stub> tasks;
  };
  const Stubs& StubsFor(uint64_t sequence) const;

  std::vector<std::shared_ptr<Stubs>> stubs_;
  std::string tag_;
};

}  // namespace signoff::bench
