// The platform's API as the page uses it: the access token kept in sessionStorage (gone with
// the tab), sent as `Authorization: Bearer`; errors are problem+json (code, title, detail).

const TOKEN_KEY = "yanxiu.dashboard.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function keepToken(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function dropToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function problem(res: Response): Promise<ApiError> {
  let code = "http_" + res.status;
  let message = `请求失败（HTTP ${res.status}）`;
  try {
    const body = await res.json();
    if (body && typeof body === "object") {
      code = body.code ?? code;
      message = body.detail || body.title || message;
    }
  } catch {
    // not JSON: keep the generic message
  }
  return new ApiError(res.status, code, message);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const t = token();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
}

export async function getJson<T>(path: string, params: Record<string, string | number | null | undefined> = {}): Promise<T> {
  const res = await fetch(withQuery(path, params), { headers: headers({ Accept: "application/json" }) });
  if (!res.ok) throw await problem(res);
  return (await res.json()) as T;
}

export async function getBlob(path: string, params: Record<string, string | null | undefined> = {}): Promise<Blob> {
  const res = await fetch(withQuery(path, params), { headers: headers() });
  if (!res.ok) throw await problem(res);
  return res.blob();
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await problem(res);
  return (await res.json()) as T;
}

export function withQuery(path: string, params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// --- the shapes the page reads (services/insights, gateway) --------------------------------

export interface TokenResponse {
  access_token: string;
  role: string;
  org_path: string[];
}

export interface Me {
  user_id: string;
  role: string;
  org_path: string[];
  name: string;
}

export interface Project {
  project_id: string;
  name: string;
  year: number;
  stage: string;
}

export interface Org {
  org_id: string;
  name: string;
  level: string;
}

export const FUNNEL = [
  "registered",
  "plan_active",
  "started",
  "requirements_met",
  "credits_registered",
  "certificates_issued",
] as const;
export type FunnelKey = (typeof FUNNEL)[number];

export interface Overview {
  project: Project;
  org: Org;
  path: Org[];
  funnel: Record<FunnelKey | "year_complete", number>;
  hours_by_category: Record<string, string>;
  lessons: Record<string, number>;
  reviews: { assigned: number; done: number };
  offline_waiting: { county_review: number; city_approval: number };
  as_of: string;
}

export interface OrgRow extends Org, Record<FunnelKey, number> {
  has_children: boolean;
  reviews_assigned: number;
  reviews_done: number;
  offline_waiting: number;
  met_rate: number | null;
}

export interface TrendDay {
  day: string;
  registered: number;
  plan_active: number;
  started: number;
  requirements_met: number;
}

export interface Teacher {
  teacher_id: string;
  name: string;
  school_id: string;
  school_name: string;
  stage: string;
  subject: string;
  hours: string | null;
  started_on: string | null;
  met_on: string | null;
}

export interface Waiting {
  record_id: string;
  teacher_id: string;
  name: string;
  status: string;
  status_zh: string;
  training_name?: string | null;
  category: string;
  hours: string;
  school_id: string;
  school_name: string;
  changed_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ServiceStatus {
  name: string;
  ready: boolean;
  status: "ok" | "degraded" | "down";
  consumer_lag: number | null;
  outbox_age_seconds: number | null;
  dlq_depth: number | null;
  dlq_url?: string;
  replay_url: string;
}
