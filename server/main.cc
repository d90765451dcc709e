// signoffd: the signoff workflow and approval service.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/app/bulk_load.h"
#include "server/app/seed.h"
#include "server/auth/dev_token.h"
#include "server/auth/jwks.h"
#include "server/grpc_log.h"
#include "server/server.h"
#include "storage/open_store.h"
#include "storage/store.h"
#include "workflow/errors.h"

namespace {

using signoff::app::Application;

struct Flags {
  std::string db = "var/signoff.db";
  // A file holding --db, for a connection string with a password.
  std::string db_file;
  std::string max_connection_age = "0s";
  std::string cache_poll = "1s";
  // "auto": 250ms on PostgreSQL, where replicas share the database; 0s
  // (commits here wake the feed) on SQLite.
  std::string feed_follow = "auto";
  std::string timer_lease = "60s";
  std::string admin_user;
  std::string admin_department;
  std::string synchronous = "FULL";
  signoff::app::SeedSources seed;
  std::string timer_poll = "1s";
  std::string clock_offset = "0s";
  std::string readiness_poll = "2s";
  std::string webhook_backoff_base = "1s";
  std::string webhook_timeout = "10s";
  std::string webhook_poll = "1s";
  std::string http_idle_timeout = "60s";
  std::string http_request_timeout = "30s";
  int64_t max_db_pages = 0;
  signoff::app::BulkLoadOptions bulk_load;
  // RFC 3339; empty: now.
  std::string bulk_load_as_of;
  signoff::server::ServerOptions server;
  std::string jwt_clock_skew = "60s";
  // `dev-token` and `dev-jwks`, for local trials of --auth=jwt.
  std::string dev_key_file;
  std::string dev_kid = "dev";
  signoff::server::auth::DevTokenClaims dev_token;
  std::string dev_token_ttl = "1h";
  absl::Duration offset;
  absl::Duration lease = signoff::app::TimerFiring::kDefaultLease;
};

// absl's duration syntax plus days ("30d"), which deadlines are spoken in.
absl::StatusOr<absl::Duration> ParseFlagDuration(const std::string& name,
                                                 const std::string& text) {
  absl::Duration duration;
  if (!text.empty() && text.back() == 'd') {
    int days = 0;
    if (absl::SimpleAtoi(text.substr(0, text.size() - 1), &days)) return absl::Hours(24) * days;
  } else if (absl::ParseDuration(text, &duration)) {
    return duration;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": '", text, "' is not a duration such as 500ms, 2h or 30d"));
}

absl::Time Now(const Flags& flags) { return absl::Now() + flags.offset; }

absl::Status ParseWebhookFlags(Flags& flags) {
  auto base = ParseFlagDuration("--webhook-backoff-base", flags.webhook_backoff_base);
  if (!base.ok()) return base.status();
  auto timeout = ParseFlagDuration("--webhook-timeout", flags.webhook_timeout);
  if (!timeout.ok()) return timeout.status();
  auto poll = ParseFlagDuration("--webhook-poll", flags.webhook_poll);
  if (!poll.ok()) return poll.status();
  if (*base < absl::Milliseconds(1) || *timeout < absl::Milliseconds(1) ||
      *poll < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError(
        "--webhook-backoff-base, --webhook-timeout and --webhook-poll must be at least 1ms");
  }
  flags.server.webhooks.backoff_base = *base;
  flags.server.webhooks.timeout = *timeout;
  flags.server.webhooks.poll = *poll;
  return absl::OkStatus();
}

absl::Status ParseHttpFlags(Flags& flags) {
  auto idle = ParseFlagDuration("--http-idle-timeout", flags.http_idle_timeout);
  if (!idle.ok()) return idle.status();
  auto request = ParseFlagDuration("--http-request-timeout", flags.http_request_timeout);
  if (!request.ok()) return request.status();
  flags.server.http.idle_timeout = *idle;
  flags.server.http.request_timeout = *request;
  return absl::OkStatus();
}

absl::Status ParseTimeFlags(Flags& flags) {
  auto poll = ParseFlagDuration("--timer-poll", flags.timer_poll);
  if (!poll.ok()) return poll.status();
  flags.server.timer_poll = *poll;
  auto readiness = ParseFlagDuration("--readiness-poll", flags.readiness_poll);
  if (!readiness.ok()) return readiness.status();
  flags.server.readiness_poll = *readiness;
  auto offset = ParseFlagDuration("--clock-offset", flags.clock_offset);
  if (!offset.ok()) return offset.status();
  flags.offset = *offset;
  auto age = ParseFlagDuration("--max-connection-age", flags.max_connection_age);
  if (!age.ok()) return age.status();
  flags.server.max_connection_age = *age;
  auto lease = ParseFlagDuration("--timer-lease", flags.timer_lease);
  if (!lease.ok()) return lease.status();
  if (*lease < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--timer-lease must be at least 1s");
  }
  flags.lease = *lease;
  auto cache_poll = ParseFlagDuration("--cache-poll", flags.cache_poll);
  if (!cache_poll.ok()) return cache_poll.status();
  flags.server.cache_poll = *cache_poll;
  auto skew = ParseFlagDuration("--jwt-clock-skew", flags.jwt_clock_skew);
  if (!skew.ok()) return skew.status();
  if (*skew < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--jwt-clock-skew must not be negative");
  }
  flags.server.jwt.clock_skew = *skew;
  if (absl::Status http = ParseHttpFlags(flags); !http.ok()) return http;
  return ParseWebhookFlags(flags);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "signoffd: %s\n", status.ToString().c_str());
  for (const auto& violation : signoff::workflow::ViolationsOf(status)) {
    std::fprintf(stderr, "  %s: %s\n", violation.field.c_str(), violation.description.c_str());
  }
  return 1;
}

signoff::storage::DatabaseOptions DatabaseOptionsOf(const Flags& flags) {
  signoff::storage::DatabaseOptions options;
  options.db = flags.db;
  options.sqlite_synchronous = flags.synchronous;
  options.sqlite_max_pages = flags.max_db_pages;
  return options;
}

absl::StatusOr<std::shared_ptr<signoff::storage::Store>> OpenStore(const Flags& flags) {
  auto store = signoff::storage::OpenStore(DatabaseOptionsOf(flags));
  if (!store.ok()) return store.status();
  return std::shared_ptr<signoff::storage::Store>(std::move(*store));
}

// --db-file wins over --db: a Secret mounted as a file keeps the password
// out of the process's arguments and environment.
absl::Status ReadDbFile(Flags& flags) {
  if (flags.db_file.empty()) return absl::OkStatus();
  std::ifstream in(flags.db_file);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--db-file: cannot read ", flags.db_file));
  std::stringstream contents;
  contents << in.rdbuf();
  flags.db = std::string(absl::StripAsciiWhitespace(contents.str()));
  if (flags.db.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--db-file: ", flags.db_file, " is empty"));
  }
  return absl::OkStatus();
}

// The application clock of a bulk load: it starts at --as-of and runs on
// from there, so the instances' times (and ids, which are taken from them)
// still increase.
absl::StatusOr<signoff::app::Clock> BulkLoadClock(const Flags& flags) {
  if (flags.bulk_load_as_of.empty()) return signoff::app::Clock([flags] { return Now(flags); });
  absl::Time as_of;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, flags.bulk_load_as_of, &as_of, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("--as-of: '", flags.bulk_load_as_of,
                                                   "' is not an RFC 3339 time such as "
                                                   "2026-03-02T10:00:00+08:00 (",
                                                   error, ")"));
  }
  const absl::Time began = absl::Now();
  return signoff::app::Clock([as_of, began] { return as_of + (absl::Now() - began); });
}

int BulkLoad(Flags& flags) {
  auto clock = BulkLoadClock(flags);
  if (!clock.ok()) {
    std::fprintf(stderr, "signoffd: %s\n", std::string(clock.status().message()).c_str());
    return 2;
  }
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail(store.status());
  auto application = Application::Create(*store, *clock);
  if (!application.ok()) return Fail(application.status());
  absl::Status seeded = signoff::app::Seed(**application, flags.seed);
  if (!seeded.ok()) return Fail(seeded);
  flags.bulk_load.on_progress = [](const signoff::app::BulkLoadProgress& progress) {
    std::fprintf(stderr, "bulk-load: %lld of %lld instances started, %.0f per second\n",
                 static_cast<long long>(progress.started), static_cast<long long>(progress.total),
                 progress.started / std::max(absl::ToDoubleSeconds(progress.elapsed), 1e-9));
  };
  auto loaded = signoff::app::BulkLoad(**application, flags.bulk_load);
  if (!loaded.ok()) return Fail(loaded.status());
  const double seconds = absl::ToDoubleSeconds(loaded->elapsed);
  std::printf("bulk-load: %lld instances started in %.1f s, %.0f per second\n",
              static_cast<long long>(loaded->started), seconds,
              loaded->started / std::max(seconds, 1e-9));
  return 0;
}

// Empties the report projections and projects the whole event log again;
// a server running meanwhile joins in (both take turns by the stored
// position) and the reports are whole again when this returns.
int RebuildReports(Flags& flags) {
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail(store.status());
  auto application = Application::Create(*store, [flags] { return Now(flags); });
  if (!application.ok()) return Fail(application.status());
  const absl::Time began = absl::Now();
  absl::Status rebuilt = (*application)->report_projector().Rebuild();
  if (!rebuilt.ok()) return Fail(rebuilt);
  auto position = (*store)->GetReportPosition();
  if (!position.ok()) return Fail(position.status());
  std::printf("rebuild-reports: projected events up to %lld in %.1f s\n",
              static_cast<long long>(*position), absl::ToDoubleSeconds(absl::Now() - began));
  return 0;
}

// Prints a token signed with --key, for trying --auth=jwt locally.
int PrintDevToken(Flags& flags) {
  auto ttl = ParseFlagDuration("--ttl", flags.dev_token_ttl);
  if (!ttl.ok()) {
    std::fprintf(stderr, "signoffd: %s\n", std::string(ttl.status().message()).c_str());
    return 2;
  }
  auto key = signoff::server::auth::ReadPrivateKeyPem(flags.dev_key_file);
  if (!key.ok()) return Fail(key.status());
  flags.dev_token.lifetime = *ttl;
  flags.dev_token.kid = flags.dev_kid;
  flags.dev_token.issued_at = absl::Now();
  auto token = signoff::server::auth::SignDevToken(key->get(), flags.dev_token);
  if (!token.ok()) return Fail(token.status());
  std::printf("%s\n", token->c_str());
  return 0;
}

// Prints the JWKS of --key's public half, the --jwks-file for dev-token's
// tokens.
int PrintDevJwks(const Flags& flags) {
  auto key = signoff::server::auth::ReadPrivateKeyPem(flags.dev_key_file);
  if (!key.ok()) return Fail(key.status());
  auto jwks = signoff::server::auth::PublicJwksOf(key->get(), flags.dev_kid);
  if (!jwks.ok()) return Fail(jwks.status());
  std::fputs(jwks->c_str(), stdout);
  return 0;
}

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested = true; }

absl::Status ResolveFeedFollow(Flags& flags) {
  if (flags.feed_follow == "auto") {
    flags.server.feed_follow = signoff::storage::IsPostgresqlUrl(flags.db)
                                   ? absl::Milliseconds(250)
                                   : absl::ZeroDuration();
    return absl::OkStatus();
  }
  auto follow = ParseFlagDuration("--feed-follow", flags.feed_follow);
  if (!follow.ok()) return follow.status();
  if (*follow < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--feed-follow must not be negative");
  }
  flags.server.feed_follow = *follow;
  return absl::OkStatus();
}

void AddHttpFlags(CLI::App& app, Flags& flags) {
  app.add_option("--http-listen", flags.server.http.listen,
                 "address to serve gRPC-web, Connect and the portal on over HTTP/1.1 "
                 "(empty: none)")
      ->envname("SIGNOFF_HTTP_LISTEN");
  app.add_option("--web-root", flags.server.http.web_root,
                 "the built portal's folder, served at / on the HTTP listener")
      ->envname("SIGNOFF_WEB_ROOT");
  app.add_option("--http-cors-origin", flags.server.http.cors_origins,
                 "an origin (scheme://host[:port]) whose pages may call signoffd from a "
                 "browser; repeat for more (default: none)")
      ->envname("SIGNOFF_HTTP_CORS_ORIGINS")
      ->delimiter(',');
  app.add_option("--http-threads", flags.server.http.threads,
                 "threads reading and writing HTTP connections")
      ->envname("SIGNOFF_HTTP_THREADS")
      ->check(CLI::Range(1, 64));
  app.add_option("--http-max-connections", flags.server.http.max_connections,
                 "HTTP connections open at once; more are answered 503")
      ->envname("SIGNOFF_HTTP_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--http-idle-timeout", flags.http_idle_timeout,
                 "how long a kept-alive HTTP connection may wait for its next request")
      ->envname("SIGNOFF_HTTP_IDLE_TIMEOUT");
  app.add_option("--http-request-timeout", flags.http_request_timeout,
                 "how long an HTTP request may take to arrive, and its answer to be taken")
      ->envname("SIGNOFF_HTTP_REQUEST_TIMEOUT");
}

int Serve(Flags flags) {
  signoff::server::SendGrpcLogsToJson();
  if (absl::Status follow = ResolveFeedFollow(flags); !follow.ok()) return Fail(follow);
  // A start refused for its flags leaves no database behind.
  absl::Status usable = signoff::server::SignoffServer::CheckOptions(flags.server);
  if (!usable.ok()) return Fail(usable);
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail(store.status());
  auto application = Application::Create(*store, [flags] { return Now(flags); });
  if (!application.ok()) return Fail(application.status());
  std::shared_ptr<Application> shared = std::move(*application);
  shared->timers().set_lease(flags.lease);
  absl::Status seeded = signoff::app::Seed(*shared, flags.seed);
  if (!seeded.ok()) return Fail(seeded);
  auto server = signoff::server::SignoffServer::Start(shared, flags.server);
  if (!server.ok()) return Fail(server.status());
  std::printf("signoffd listening on %s (port %d), database %s\n", flags.server.listen.c_str(),
              (*server)->port(), signoff::storage::DescribeDatabase(flags.db).c_str());
  if (!flags.server.http.listen.empty()) {
    std::printf("signoffd serving HTTP on %s (port %d)%s\n", flags.server.http.listen.c_str(),
                (*server)->http_port(),
                flags.server.http.web_root.empty() ? ", no portal (--web-root unset)" : "");
  }
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "signoffd: shutting down\n");
  (*server)->Shutdown();
  return 0;
}

void AddStoreFlags(CLI::App& app, Flags& flags) {
  app.add_option("--db", flags.db,
                 "database: an SQLite file (or sqlite:FILE), or a postgresql:// URL")
      ->envname("SIGNOFF_DB");
  app.add_option("--db-file", flags.db_file,
                 "file holding the --db value, e.g. a PostgreSQL URL with its password")
      ->envname("SIGNOFF_DB_FILE");
  app.add_option("--synchronous", flags.synchronous,
                 "SQLite synchronous mode: FULL survives power loss, NORMAL only crashes")
      ->envname("SIGNOFF_SYNCHRONOUS")
      ->check(CLI::IsMember({"FULL", "NORMAL"}));
}

void AddSeedFlags(CLI::App& app, Flags& flags) {
  app.add_option("--directory", flags.seed.organisation_file,
                 "organisation YAML to load before serving (users, departments)")
      ->envname("SIGNOFF_DIRECTORY");
  app.add_option("--calendars", flags.seed.calendars,
                 "business calendar YAML files or folders to publish when changed")
      ->envname("SIGNOFF_CALENDARS");
  app.add_option("--definitions", flags.seed.definitions,
                 "definition YAML files or folders to publish when changed (a folder's "
                 "calendars/ subfolder is published too)")
      ->envname("SIGNOFF_DEFINITIONS");
}

void AddIdentityFlags(CLI::App& app, Flags& flags) {
  app.add_option("--auth", flags.server.auth,
                 "identity mode: dev (x-signoff-user header, loopback only) or jwt (bearer "
                 "tokens)")
      ->envname("SIGNOFF_AUTH")
      ->check(CLI::IsMember({"dev", "jwt"}));
  app.add_option("--jwks-file", flags.server.jwks_file,
                 "JWKS file with the keys that sign bearer tokens; read again when it changes")
      ->envname("SIGNOFF_JWKS_FILE");
  app.add_option("--jwt-issuer", flags.server.jwt.issuer, "the iss tokens must carry")
      ->envname("SIGNOFF_JWT_ISSUER");
  app.add_option("--jwt-audience", flags.server.jwt.audience, "the aud tokens must include")
      ->envname("SIGNOFF_JWT_AUDIENCE");
  app.add_option("--jwt-clock-skew", flags.jwt_clock_skew,
                 "how far the issuer's clock may be off, for exp and nbf")
      ->envname("SIGNOFF_JWT_CLOCK_SKEW");
  app.add_option("--jwt-user-claim", flags.server.jwt.user_claim,
                 "the token claim that names the directory user")
      ->envname("SIGNOFF_JWT_USER_CLAIM");
  app.add_option("--tls-cert-file", flags.server.tls.cert_file,
                 "PEM certificate chain: serve gRPC over TLS (with --tls-key-file)")
      ->envname("SIGNOFF_TLS_CERT_FILE");
  app.add_option("--tls-key-file", flags.server.tls.key_file, "PEM private key of the certificate")
      ->envname("SIGNOFF_TLS_KEY_FILE");
  app.add_option("--tls-client-ca-file", flags.server.tls.client_ca_file,
                 "PEM CA certificates: require client certificates they signed (mTLS)")
      ->envname("SIGNOFF_TLS_CLIENT_CA_FILE");
  app.add_option("--tls-client-identity", flags.server.client_certificate_identity,
                 "which SANs of a client certificate name the service account of a call "
                 "with no token (or dev header): none, uri (last path segment) or dns "
                 "(first label)")
      ->envname("SIGNOFF_TLS_CLIENT_IDENTITY")
      ->check(CLI::IsMember({"none", "uri", "dns"}));
}

// Subcommands that print a signing key's JWKS and tokens it signs.
void AddDevTokenCommands(CLI::App& app, Flags& flags, CLI::App** dev_token, CLI::App** dev_jwks) {
  *dev_token = app.add_subcommand(
      "dev-token", "for local trials: print a bearer token signed with --key (RS256 or ES256)");
  (*dev_token)->add_option("--key", flags.dev_key_file, "PEM private key (RSA or EC P-256)")
      ->required();
  (*dev_token)->add_option("--user", flags.dev_token.user, "the directory user (sub claim)")
      ->required();
  (*dev_token)->add_option("--issuer", flags.dev_token.issuer, "the iss claim");
  (*dev_token)->add_option("--audience", flags.dev_token.audience, "the aud claim");
  (*dev_token)->add_option("--ttl", flags.dev_token_ttl, "how long the token is valid");
  (*dev_token)->add_option("--kid", flags.dev_kid, "the key id in the token's header");
  *dev_jwks = app.add_subcommand(
      "dev-jwks", "for local trials: print the JWKS of --key's public half, for --jwks-file");
  (*dev_jwks)->add_option("--key", flags.dev_key_file, "PEM private key (RSA or EC P-256)")
      ->required();
  (*dev_jwks)->add_option("--kid", flags.dev_kid, "the key id");
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout (a supervisor that stopped reading) must not kill the
  // server.
  std::signal(SIGPIPE, SIG_IGN);
  Flags flags;
  CLI::App app{"signoffd: the signoff workflow and approval service"};
  app.require_subcommand(0, 1);
  // Flags are shared, so they may follow the subcommand.
  app.fallthrough();
  AddStoreFlags(app, flags);
  AddSeedFlags(app, flags);
  app.add_option("--listen", flags.server.listen, "address to serve gRPC on")
      ->envname("SIGNOFF_LISTEN");
  AddIdentityFlags(app, flags);
  app.add_option("--workers", flags.server.workers, "threads running store work")
      ->envname("SIGNOFF_WORKERS")
      ->check(CLI::Range(1, 256));
  app.add_option("--document-workers", flags.server.document_workers,
                 "threads validating and publishing definitions and calendars, apart from "
                 "the other calls")
      ->envname("SIGNOFF_DOCUMENT_WORKERS")
      ->check(CLI::Range(1, 64));
  app.add_option("--job-poll-workers", flags.server.job_poll_workers,
                 "threads on which JobService.ActivateJobs long-polls, apart from the other "
                 "calls")
      ->envname("SIGNOFF_JOB_POLL_WORKERS")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-queued", flags.server.max_queued,
                 "calls that may wait for a worker before RESOURCE_EXHAUSTED")
      ->envname("SIGNOFF_MAX_QUEUED")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--timer-poll", flags.timer_poll, "how often due timers are looked for")
      ->envname("SIGNOFF_TIMER_POLL");
  app.add_option("--max-connection-age", flags.max_connection_age,
                 "close client connections after this long (0s: never), so that clients "
                 "behind a load balancer spread over new replicas")
      ->envname("SIGNOFF_MAX_CONNECTION_AGE");
  app.add_option("--timer-lease", flags.timer_lease,
                 "how long a replica holds a due timer it claimed before another may fire it")
      ->envname("SIGNOFF_TIMER_LEASE");
  app.add_option("--cache-poll", flags.cache_poll,
                 "how often the cached directory, calendars and definitions are checked for "
                 "changes made through other processes (0s: never)")
      ->envname("SIGNOFF_CACHE_POLL");
  app.add_option("--feed-follow", flags.feed_follow,
                 "how often event streams look for events other replicas committed "
                 "(auto: 250ms on PostgreSQL, never on SQLite, where every commit is this "
                 "process's own)")
      ->envname("SIGNOFF_FEED_FOLLOW");
  app.add_option("--stream-workers", flags.server.stream_workers,
                 "threads that read the store for event streams")
      ->envname("SIGNOFF_STREAM_WORKERS")
      ->check(CLI::Range(1, 64));
  app.add_option("--readiness-poll", flags.readiness_poll,
                 "how often readiness checks that the database can be written (0s: never)")
      ->envname("SIGNOFF_READINESS_POLL");
  app.add_option("--max-db-pages", flags.max_db_pages,
                 "cap the SQLite database at this many 4 KiB pages (0: no cap); changes past "
                 "it fail with RESOURCE_EXHAUSTED")
      ->envname("SIGNOFF_MAX_DB_PAGES")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--clock-offset", flags.clock_offset,
                 "shift the service clock, e.g. 30d, for rehearsing deadlines; never in "
                 "production")
      ->envname("SIGNOFF_CLOCK_OFFSET");
  app.add_option("--max-attachment-bytes", flags.server.attachments.max_bytes,
                 "the largest file an ATTACHMENT field takes; a definition may set less")
      ->envname("SIGNOFF_MAX_ATTACHMENT_BYTES")
      ->check(CLI::PositiveNumber);
  app.add_option("--webhook-concurrency", flags.server.webhooks.concurrency,
                 "webhook deliveries posted at once (0: this process delivers none)")
      ->envname("SIGNOFF_WEBHOOK_CONCURRENCY")
      ->check(CLI::Range(0, 256));
  app.add_option("--webhook-backoff-base", flags.webhook_backoff_base,
                 "the wait after a delivery's first failed attempt; it doubles with each "
                 "further one, up to 5 minutes")
      ->envname("SIGNOFF_WEBHOOK_BACKOFF_BASE");
  app.add_option("--webhook-timeout", flags.webhook_timeout,
                 "how long a webhook receiver has to answer")
      ->envname("SIGNOFF_WEBHOOK_TIMEOUT");
  app.add_option("--webhook-poll", flags.webhook_poll,
                 "how often the event feed and the webhook outbox are looked at without a "
                 "wake-up (for changes made by other replicas)")
      ->envname("SIGNOFF_WEBHOOK_POLL");
  AddHttpFlags(app, flags);
  auto* serve = app.add_subcommand("serve", "serve gRPC (the default)");
  auto* migrate = app.add_subcommand("migrate", "apply pending database migrations and exit");
  auto* seed = app.add_subcommand("seed", "load --directory and publish --definitions, then exit");
  auto* admin = app.add_subcommand(
      "admin", "make USER a workflow-admin (creating the user if needed), then exit; the way "
               "to the first administrator of an empty directory");
  admin->add_option("user", flags.admin_user, "directory user id")->required();
  admin->add_option("--department", flags.admin_department,
                    "department of a user created here");
  auto* bulk_load = app.add_subcommand(
      "bulk-load",
      "start many instances through the engine, fast, to fill a database for benchmarks; "
      "loads --directory and publishes --definitions first");
  bulk_load->add_option("--instances", flags.bulk_load.instances, "how many instances to start")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{100} * 1000 * 1000));
  bulk_load->add_option("--definition", flags.bulk_load.definition_keys,
                        "published definition key to start; repeat it to share the instances "
                        "evenly among several")
      ->required();
  bulk_load->add_option("--threads", flags.bulk_load.threads, "starts in flight at once")
      ->check(CLI::Range(1, 256));
  bulk_load->add_option("--as-of", flags.bulk_load_as_of,
                        "RFC 3339 time the load's clock starts at, e.g. weeks ago so that the "
                        "instances' deadlines have passed when signoffd next serves");
  auto* rebuild_reports = app.add_subcommand(
      "rebuild-reports", "rebuild the KPI report projections from the event log, then exit");
  CLI::App* dev_token = nullptr;
  CLI::App* dev_jwks = nullptr;
  AddDevTokenCommands(app, flags, &dev_token, &dev_jwks);
  CLI11_PARSE(app, argc, argv);
  if (dev_jwks->parsed()) return PrintDevJwks(flags);
  if (absl::Status parsed = ReadDbFile(flags); !parsed.ok()) {
    std::fprintf(stderr, "signoffd: %s\n", std::string(parsed.message()).c_str());
    return 2;
  }
  if (absl::Status parsed = ParseTimeFlags(flags); !parsed.ok()) {
    std::fprintf(stderr, "signoffd: %s\n", std::string(parsed.message()).c_str());
    return 2;
  }

  if (dev_token->parsed()) return PrintDevToken(flags);
  if (migrate->parsed()) {
    auto version = signoff::storage::MigrateDatabase(DatabaseOptionsOf(flags));
    if (!version.ok()) return Fail(version.status());
    std::printf("schema version %d\n", *version);
    return 0;
  }
  if (admin->parsed()) {
    auto store = OpenStore(flags);
    if (!store.ok()) return Fail(store.status());
    auto application = Application::Create(*store, [flags] { return Now(flags); });
    if (!application.ok()) return Fail(application.status());
    absl::Status granted =
        (*application)->directory().GrantAdmin(flags.admin_user, flags.admin_department);
    if (!granted.ok()) return Fail(granted);
    std::printf("%s is a workflow-admin\n", flags.admin_user.c_str());
    return 0;
  }
  if (seed->parsed()) {
    auto store = OpenStore(flags);
    if (!store.ok()) return Fail(store.status());
    auto application = Application::Create(*store, [flags] { return Now(flags); });
    if (!application.ok()) return Fail(application.status());
    absl::Status seeded = signoff::app::Seed(**application, flags.seed);
    return seeded.ok() ? 0 : Fail(seeded);
  }
  if (bulk_load->parsed()) return BulkLoad(flags);
  if (rebuild_reports->parsed()) return RebuildReports(flags);
  (void)serve;
  return Serve(flags);
}
