// Who is signed in, kept in the browser's local storage.
//
// Development servers (--auth=dev, loopback only) trust an x-signoff-user
// header naming a directory user; others verify a bearer token.

export type Session =
  | { mode: "dev"; user: string }
  | { mode: "jwt"; user: string; token: string };

const SESSION_KEY = "signoff.session";
const LAST_USER_KEY = "signoff.lastDevUser";

let current: Session | null = load();

function load(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Session;
    if (parsed.mode === "dev" && parsed.user) return parsed;
    if (parsed.mode === "jwt" && parsed.user && parsed.token) return parsed;
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

export function session(): Session | null {
  return current;
}

export function me(): string {
  return current?.user ?? "";
}

export function signIn(next: Session): void {
  current = next;
  localStorage.setItem(SESSION_KEY, JSON.stringify(next));
  if (next.mode === "dev") localStorage.setItem(LAST_USER_KEY, next.user);
}

export function signOut(): void {
  current = null;
  localStorage.removeItem(SESSION_KEY);
}

// The last user signed in with the dev header: the sign-in page asks the
// directory for the demo users on their behalf.
export function lastDevUser(): string {
  return localStorage.getItem(LAST_USER_KEY) ?? "";
}

// The user a bearer token names, read from its payload (the server checks
// the signature; this only labels the session). `sub` unless the token
// carries none.
export function userOfToken(token: string): string {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return "";
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const payload = JSON.parse(atob(padded)) as Record<string, unknown>;
    for (const claim of ["sub", "preferred_username"]) {
      if (typeof payload[claim] === "string" && payload[claim]) return payload[claim] as string;
    }
  } catch {
    // Not a JWT: the server will say so.
  }
  return "";
}
