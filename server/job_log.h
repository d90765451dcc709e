#pragma once

#include "server/app/command_pipeline.h"

namespace signoff::server {

// A post-commit hook writing one JSON log line per job event the commit
// stored: a job created or completed, a worker's failure or business
// error, an incident raised or resolved. Worker calls have their own call
// lines; these say what each did to the job, including what timers did.
void LogJobEvents(const app::Committed& committed);

}  // namespace signoff::server
