// The API clients: gRPC-web to signoffd's HTTP listener, with the caller's
// identity added to every call.
import { Code, ConnectError, createClient, type Interceptor, type Client } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { BadRequestSchema } from "../gen/google/rpc/status_pb";
import {
  CalendarService,
  DefinitionService,
  DirectoryService,
  InstanceService,
  TaskService,
} from "../gen/signoff/v1/service_pb";
import { ReportService } from "../gen/signoff/v1/reports_pb";
import { AttachmentService } from "../gen/signoff/v1/attachments_pb";
import { LedgerService } from "../gen/signoff/v1/ledgers_pb";
import { session, type Session } from "./session";

const identify: Interceptor = (next) => async (request) => {
  const who = session();
  if (who) applyIdentity(request.header, who);
  return next(request);
};

function applyIdentity(header: Headers, who: Session): void {
  if (who.mode === "dev") header.set("x-signoff-user", who.user);
  else header.set("authorization", `Bearer ${who.token}`);
}

const transport = createGrpcWebTransport({
  baseUrl: location.origin,
  interceptors: [identify],
});

export const definitions: Client<typeof DefinitionService> = createClient(DefinitionService, transport);
export const instances: Client<typeof InstanceService> = createClient(InstanceService, transport);
export const tasks: Client<typeof TaskService> = createClient(TaskService, transport);
export const calendars: Client<typeof CalendarService> = createClient(CalendarService, transport);
export const directory: Client<typeof DirectoryService> = createClient(DirectoryService, transport);
export const reports: Client<typeof ReportService> = createClient(ReportService, transport);
export const attachments: Client<typeof AttachmentService> = createClient(AttachmentService, transport);
export const ledgers: Client<typeof LedgerService> = createClient(LedgerService, transport);

// A directory call made as a given identity before it is signed in: the
// sign-in page checks that the user exists.
export function asIdentity(who: Session): { headers: Headers } {
  const headers = new Headers();
  applyIdentity(headers, who);
  return { headers };
}

// Every change carries a fresh request id: a retry of the same click would
// reuse it, a new click gets a new one.
export function newRequestId(): string {
  if (typeof crypto.randomUUID === "function") return `web-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function asConnectError(error: unknown): ConnectError {
  return ConnectError.from(error);
}

export function isNotFound(error: unknown): boolean {
  return asConnectError(error).code === Code.NotFound;
}

export function isPermissionDenied(error: unknown): boolean {
  return asConnectError(error).code === Code.PermissionDenied;
}

// The server's google.rpc.BadRequest, as field path -> descriptions.
export function fieldViolations(error: unknown): Map<string, string[]> {
  const byField = new Map<string, string[]>();
  for (const detail of asConnectError(error).findDetails(BadRequestSchema)) {
    for (const violation of detail.fieldViolations) {
      const list = byField.get(violation.field) ?? [];
      list.push(violation.description);
      byField.set(violation.field, list);
    }
  }
  return byField;
}

export { Code, ConnectError };
