// signoffd's HTTP listener driven by client libraries no one here wrote:
// connect-node's Connect and gRPC-web transports, Google's grpc-web client
// and curl, against a real signoffd.
//
//   SIGNOFFD=<signoffd> SIGNOFF_SOURCE_DIR=<repo> node --test interop.test.mjs
//
// The generated messages are in ./gen (run_interop.sh makes them).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import XMLHttpRequest from "xhr2";

import { BadRequestSchema } from "./gen/google/rpc/status_pb.js";
import { Action } from "./gen/signoff/v1/definition_pb.js";
import { EventService, WatchEventsRequestSchema, WatchEventsResponseSchema } from "./gen/signoff/v1/events_pb.js";
import { InstanceStatus } from "./gen/signoff/v1/instance_pb.js";
import {
  DefinitionService,
  InstanceService,
  ListDefinitionsRequestSchema,
  ListDefinitionsResponseSchema,
  StartInstanceRequestSchema,
  InstanceResponseSchema,
  TaskService,
} from "./gen/signoff/v1/service_pb.js";
import { startSignoffd } from "./signoffd.mjs";

// Google's grpc-web client is a browser library; xhr2 gives it the
// XMLHttpRequest a browser would.
globalThis.XMLHttpRequest = XMLHttpRequest;
const grpcWeb = (await import("grpc-web")).default;

const run = promisify(execFile);
const APPLICANT = "bob.zhang";
const REVIEWER = "tina.luo";
const AUDITOR = "olivia.ke";

let signoffd;
before(async () => {
  signoffd = await startSignoffd({
    binary: process.env.SIGNOFFD,
    sourceDir: process.env.SIGNOFF_SOURCE_DIR,
  });
});
after(async () => {
  await signoffd?.stop();
});

function as(user) {
  return (next) => async (request) => {
    request.header.set("x-signoff-user", user);
    return next(request);
  };
}

function connectTransport(user, options = {}) {
  return createConnectTransport({
    baseUrl: signoffd.baseUrl,
    httpVersion: "1.1",
    interceptors: [as(user)],
    ...options,
  });
}

function grpcWebTransport(user, options = {}) {
  return createGrpcWebTransport({
    baseUrl: signoffd.baseUrl,
    httpVersion: "1.1",
    interceptors: [as(user)],
    ...options,
  });
}

let claims = 0;
function claimForm(amount) {
  return {
    dealer_id: "D-1001",
    claim_type: "warranty",
    amount,
    region: "sales-east",
    description: "replaced gearbox under warranty",
  };
}

async function fileClaim(transport, amount = 12800) {
  const instances = createClient(InstanceService, transport);
  const { instance } = await instances.startInstance({
    requestId: `interop-claim-${process.pid}-${++claims}`,
    definitionKey: "dealer-claim",
    form: claimForm(amount),
  });
  return instance;
}

async function reviewTaskOf(instanceId, transport) {
  const tasks = createClient(TaskService, transport);
  const { tasks: inbox } = await tasks.listTasks({});
  return inbox.find((task) => task.instanceId === instanceId);
}

for (const [name, makeTransport] of [
  ["Connect JSON", (user) => connectTransport(user)],
  ["Connect binary", (user) => connectTransport(user, { useBinaryFormat: true })],
  ["connect-node gRPC-web", (user) => grpcWebTransport(user)],
]) {
  describe(name, () => {
    test("a claim is filed, found in the reviewer's inbox and approved", async () => {
      const instance = await fileClaim(makeTransport(APPLICANT));
      assert.equal(instance.status, InstanceStatus.RUNNING);
      const task = await reviewTaskOf(instance.id, makeTransport(REVIEWER));
      assert.ok(task, "the claim is in the reviewer's inbox");
      const tasks = createClient(TaskService, makeTransport(REVIEWER));
      const decided = await tasks.decideTask({
        requestId: `interop-approve-${instance.id}`,
        taskId: task.id,
        action: Action.APPROVE,
        comment: "checked",
      });
      assert.equal(decided.task.id, task.id);
      const instances = createClient(InstanceService, makeTransport(APPLICANT));
      const { instance: after } = await instances.getInstance({ id: instance.id });
      assert.ok(after.version > instance.version);
    });

    test("field violations arrive as google.rpc.BadRequest details", async () => {
      const instances = createClient(InstanceService, makeTransport(APPLICANT));
      await assert.rejects(
        instances.startInstance({
          requestId: `interop-bad-${name}-${process.pid}`,
          definitionKey: "dealer-claim",
          form: { ...claimForm(12800), amount: -5 },
        }),
        (error) => {
          const connectError = ConnectError.from(error);
          assert.equal(connectError.code, Code.InvalidArgument);
          const [badRequest] = connectError.findDetails(BadRequestSchema);
          assert.ok(badRequest, "a BadRequest detail");
          assert.ok(
            badRequest.fieldViolations.some((violation) => violation.field === "form.amount"),
            JSON.stringify(badRequest.fieldViolations),
          );
          return true;
        },
      );
    });

    test("codes map: not found, permission denied, unauthenticated", async () => {
      const instances = createClient(InstanceService, makeTransport(APPLICANT));
      await assert.rejects(instances.getInstance({ id: "no-such-instance" }), (error) => {
        assert.equal(ConnectError.from(error).code, Code.NotFound);
        return true;
      });
      const definitions = createClient(DefinitionService, makeTransport(APPLICANT));
      await assert.rejects(
        definitions.publishDefinition({ requestId: "interop-publish", source: { yaml: "key: x" } }),
        (error) => {
          assert.equal(ConnectError.from(error).code, Code.PermissionDenied);
          return true;
        },
      );
      const stranger = createClient(TaskService, makeTransport("nobody-here"));
      await assert.rejects(stranger.listTasks({}), (error) => {
        assert.equal(ConnectError.from(error).code, Code.Unauthenticated);
        return true;
      });
    });
  });
}

test("Connect GET serves a read, marked side-effect free in the proto", async () => {
  await fileClaim(connectTransport(APPLICANT));
  const tasks = createClient(TaskService, connectTransport(REVIEWER, { useHttpGet: true }));
  const { tasks: inbox } = await tasks.listTasks({});
  assert.ok(inbox.length > 0);
});

for (const [name, makeTransport] of [
  ["connect-node gRPC-web", (user) => grpcWebTransport(user)],
  ["Connect", (user) => connectTransport(user)],
]) {
  test(`${name} streams WatchEvents: history, then heartbeat, then live events`, async () => {
    const filed = await fileClaim(connectTransport(APPLICANT));
    const events = createClient(EventService, makeTransport(AUDITOR));
    const abort = new AbortController();
    const seen = new Set();
    let heartbeat = false;
    let live = null;
    for await (const item of events.watchEvents(
      { afterGlobalSeq: 0n, heartbeatInterval: { seconds: 1n } },
      { signal: abort.signal },
    )) {
      if (item.event) seen.add(item.event.event.instanceId);
      if (item.heartbeat && !heartbeat) {
        heartbeat = true;
        assert.ok(seen.has(filed.id), "history came before the first heartbeat");
        live = await fileClaim(connectTransport(APPLICANT));
      }
      if (live && seen.has(live.id)) break;
    }
    abort.abort();
    assert.ok(heartbeat);
    assert.ok(seen.has(live.id), "a claim filed during the stream arrived live");
  });
}

describe("Google grpc-web client", () => {
  const listDefinitions = new grpcWeb.MethodDescriptor(
    "/signoff.v1.DefinitionService/ListDefinitions",
    grpcWeb.MethodType.UNARY,
    Object,
    Object,
    (request) => toBinary(ListDefinitionsRequestSchema, request),
    (bytes) => fromBinary(ListDefinitionsResponseSchema, bytes),
  );
  const startInstance = new grpcWeb.MethodDescriptor(
    "/signoff.v1.InstanceService/StartInstance",
    grpcWeb.MethodType.UNARY,
    Object,
    Object,
    (request) => toBinary(StartInstanceRequestSchema, request),
    (bytes) => fromBinary(InstanceResponseSchema, bytes),
  );
  const watchEvents = new grpcWeb.MethodDescriptor(
    "/signoff.v1.EventService/WatchEvents",
    grpcWeb.MethodType.SERVER_STREAMING,
    Object,
    Object,
    (request) => toBinary(WatchEventsRequestSchema, request),
    (bytes) => fromBinary(WatchEventsResponseSchema, bytes),
  );

  function call(format, method, request, user) {
    const client = new grpcWeb.GrpcWebClientBase({ format });
    return new Promise((resolve, reject) => {
      client.rpcCall(
        `${signoffd.baseUrl}${method.getName()}`,
        request,
        { "x-signoff-user": user },
        method,
        (error, response) => (error ? reject(error) : resolve(response)),
      );
    });
  }

  for (const format of ["text", "binary"]) {
    test(`unary calls in ${format} mode`, async () => {
      const definitions = await call(
        format,
        listDefinitions,
        create(ListDefinitionsRequestSchema, {}),
        APPLICANT,
      );
      assert.ok(definitions.definitions.some((definition) => definition.key === "dealer-claim"));
      const started = await call(
        format,
        startInstance,
        create(StartInstanceRequestSchema, {
          requestId: `grpc-web-${format}-${process.pid}`,
          definitionKey: "dealer-claim",
          form: claimForm(990),
        }),
        APPLICANT,
      );
      assert.equal(started.instance.definitionKey, "dealer-claim");
    });

    test(`errors in ${format} mode carry the gRPC code and message`, async () => {
      await assert.rejects(
        call(
          format,
          startInstance,
          create(StartInstanceRequestSchema, {
            requestId: `grpc-web-bad-${format}-${process.pid}`,
            definitionKey: "dealer-claim",
            form: { ...claimForm(1), amount: -1 },
          }),
          APPLICANT,
        ),
        (error) => {
          assert.equal(error.code, grpcWeb.StatusCode.INVALID_ARGUMENT);
          assert.ok(error.message.length > 0);
          return true;
        },
      );
    });
  }

  // xhr2 hands over a response only once it is complete, as no browser
  // would, so this stream is ended by its own signoffd stopping: every item
  // sent until then, and the UNAVAILABLE trailers, reach the client.
  test("server streaming in text mode, to the trailers a shutdown sends", async () => {
    const own = await startSignoffd({
      binary: process.env.SIGNOFFD,
      sourceDir: process.env.SIGNOFF_SOURCE_DIR,
    });
    try {
      const applicant = createConnectTransport({
        baseUrl: own.baseUrl,
        httpVersion: "1.1",
        interceptors: [as(APPLICANT)],
      });
      const filed = await fileClaim(applicant);
      const client = new grpcWeb.GrpcWebClientBase({ format: "text" });
      const stream = client.serverStreaming(
        `${own.baseUrl}${watchEvents.getName()}`,
        create(WatchEventsRequestSchema, {
          afterGlobalSeq: 0n,
          heartbeatInterval: { seconds: 1n },
        }),
        { "x-signoff-user": AUDITOR },
        watchEvents,
      );
      const received = [];
      const ended = new Promise((resolve) => {
        stream.on("data", (item) => received.push(item));
        stream.on("error", (error) => resolve(error));
        stream.on("end", () => resolve(null));
      });
      // Long enough for the history and a heartbeat to be sent.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await own.stop();
      const error = await ended;
      assert.ok(error, "the stream ends with the shutdown's status");
      assert.equal(error.code, grpcWeb.StatusCode.UNAVAILABLE);
      assert.ok(
        received.some((item) => item.event?.event?.instanceId === filed.id),
        `the filed claim's events arrived (${received.length} items)`,
      );
      assert.ok(received.some((item) => item.heartbeat), "a heartbeat arrived");
    } finally {
      await own.stop().catch(() => {});
    }
  });
});

describe("curl", () => {
  const path = (method) => `${signoffd.baseUrl}/signoff.v1.${method}`;

  test("Connect JSON with curl, as the README shows", async () => {
    const instance = await fileClaim(connectTransport(APPLICANT));
    const { stdout } = await run("curl", [
      "-sS", "-H", "content-type: application/json", "-H", `x-signoff-user: ${REVIEWER}`,
      "-d", "{}", path("TaskService/ListTasks"),
    ]);
    const { tasks } = JSON.parse(stdout);
    assert.ok(tasks.some((task) => task.instanceId === instance.id));
  });

  test("curl sees the error JSON and the HTTP status", async () => {
    const { stdout } = await run("curl", [
      "-sS", "-w", "\n%{http_code}", "-H", "content-type: application/json",
      "-H", `x-signoff-user: ${APPLICANT}`, "-d", '{"id":"missing"}',
      path("InstanceService/GetInstance"),
    ]);
    const [body, status] = stdout.trim().split("\n");
    assert.equal(status, "404");
    assert.equal(JSON.parse(body).code, "not_found");
  });

  test("curl GET of a read", async () => {
    const { stdout } = await run("curl", [
      "-sS", "-G", "-H", `x-signoff-user: ${APPLICANT}`,
      "--data-urlencode", "connect=v1", "--data-urlencode", "encoding=json",
      "--data-urlencode", "message={}", path("DefinitionService/ListDefinitions"),
    ]);
    const { definitions } = JSON.parse(stdout);
    assert.ok(definitions.some((definition) => definition.key === "dealer-claim"));
  });
});
