#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "server/app/command_pipeline.h"

namespace signoff::app {

// Where long polls for jobs wait: the pipeline's post-commit hook posts
// the job types its events made available (a job created, failed with a
// backoff, or retried after an incident), and waiters of that type wake
// to try a lease again. Thread-safe.
class JobBoard {
 public:
  // A post-commit hook: never blocks.
  void NoteCommitted(const Committed& committed);

  // What Wait compares against: how many times `type` was posted.
  uint64_t Generation(const std::string& type);

  // Returns once `type` is posted past `seen`, `timeout` (real time) has
  // passed, or the board is closed; true when posted.
  bool Wait(const std::string& type, uint64_t seen, absl::Duration timeout);

  // Wakes every waiter and keeps new ones from waiting: the server is
  // stopping.
  void Close();
  bool closed();

 private:
  void Post(const std::string& type);

  std::mutex mutex_;
  std::condition_variable posted_;
  std::map<std::string, uint64_t> generations_;
  bool closed_ = false;
};

}  // namespace signoff::app
