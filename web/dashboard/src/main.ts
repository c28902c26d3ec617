// 研修数据看板: sign-in, a project's funnel for the caller's org and each org under it (drilling
// down and back up), the teachers behind a number, what waits for this admin, and for province
// admins the services' health. Data from /api/v1/insights/… and /api/v1/ops/status.
import "./style.css";

import {
  ApiError,
  FUNNEL,
  dropToken,
  getBlob,
  getJson,
  keepToken,
  postJson,
  token,
  type FunnelKey,
  type Me,
  type Org,
  type OrgRow,
  type Overview,
  type Page,
  type Project,
  type ServiceStatus,
  type Teacher,
  type TokenResponse,
  type TrendDay,
  type Waiting,
} from "./api";
import { clearCharts, drawFunnel, drawTrend } from "./charts";
import { CATEGORY_ZH, LESSON_LEVEL_ZH, LEVEL_ZH, ROLE_ZH, SCHOOL_STAGE_ZH, SERVICE_STATUS_ZH, STAGE_ZH, zh } from "./labels";

const API = "/api/v1/insights";
const TEACHER_METRICS: ReadonlySet<string> = new Set(["registered", "plan_active", "started", "requirements_met"]);
const PAGE_SIZE = 20;

interface State {
  me: Me | null;
  projectId: string | null;
  orgId: string | null; // null: the caller's own org
  overview: Overview | null;
  loading: number; // which refresh is current: an older one's answer is thrown away
}

const state: State = { me: null, projectId: null, orgId: null, overview: null, loading: 0 };

// --- small DOM helpers ------------------------------------------------------------------------

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("zh-CN");
}

function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

function moment(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("zh-CN", { hour12: false });
}

function show(el: HTMLElement, on: boolean): void {
  el.hidden = !on;
}

function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return "网络错误，请稍后重试";
}

// --- sign-in and sign-out ---------------------------------------------------------------------

function showSignIn(message = ""): void {
  clearCharts();
  state.me = null;
  state.overview = null;
  show($("board"), false);
  show($("who"), false);
  show($("teachers"), false);
  show($("signin"), true);
  const error = $("signin-error");
  error.textContent = message;
  show(error, Boolean(message));
}

async function signIn(form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const button = form.querySelector("button") as HTMLButtonElement;
  button.disabled = true;
  try {
    const issued = await postJson<TokenResponse>("/api/v1/auth/token", {
      username: String(data.get("username") ?? "").trim(),
      password: String(data.get("password") ?? ""),
    });
    keepToken(issued.access_token);
    form.reset();
    await start();
  } catch (err) {
    const msg =
      err instanceof ApiError && err.status === 401
        ? "用户名或密码错误"
        : err instanceof ApiError && err.status === 429
          ? "尝试过于频繁，请稍后再试"
          : errorText(err);
    showSignIn(msg);
  } finally {
    button.disabled = false;
  }
}

async function signOut(): Promise<void> {
  const t = token();
  dropToken();
  if (t) {
    // Ends the session at the gateway too; the page forgets the token whatever the answer.
    await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${t}` } }).catch(() => undefined);
  }
  showSignIn();
}

/** Any 401 means the token lapsed or its session ended: back to the form. */
function handle(err: unknown): boolean {
  if (err instanceof ApiError && err.status === 401) {
    dropToken();
    showSignIn("登录已过期，请重新登录");
    return true;
  }
  return false;
}

// --- the board --------------------------------------------------------------------------------

async function start(): Promise<void> {
  try {
    state.me = await getJson<Me>("/api/v1/auth/me");
  } catch (err) {
    if (!handle(err)) showSignIn(errorText(err));
    return;
  }
  show($("signin"), false);
  show($("board"), true);
  show($("who"), true);
  $("user-name").textContent = `${state.me.name || state.me.user_id}（${zh(ROLE_ZH, state.me.role)}）`;
  void loadOps();
  void loadWaiting(true);
  try {
    const projects = await getJson<{ items: Project[] }>(`${API}/projects`);
    const select = $("project-select") as HTMLSelectElement;
    select.replaceChildren(
      ...projects.items.map((p) =>
        h("option", { value: p.project_id }, p.name.includes(String(p.year)) ? p.name : `${p.year} ${p.name}`),
      ),
    );
    if (projects.items.length === 0) {
      boardError("暂无培训项目");
      return;
    }
    state.projectId = projects.items[0].project_id;
    state.orgId = null;
    await refresh();
  } catch (err) {
    if (!handle(err)) boardError(errorText(err));
  }
}

function boardError(message: string): void {
  const el = $("board-error");
  el.textContent = message;
  show(el, Boolean(message));
}

async function refresh(): Promise<void> {
  const project = state.projectId;
  if (!project) return;
  const ticket = ++state.loading;
  const base = `${API}/projects/${encodeURIComponent(project)}`;
  const org = { org_id: state.orgId };
  document.body.classList.add("busy");
  try {
    const [overview, orgs, trend] = await Promise.all([
      getJson<Overview>(`${base}/overview`, org),
      getJson<{ org: Org; items: OrgRow[] }>(`${base}/orgs`, org),
      getJson<{ items: TrendDay[] }>(`${base}/trend`, { ...org, days: 30 }),
    ]);
    if (ticket !== state.loading) return;
    state.overview = overview;
    boardError("");
    renderOverview(overview);
    renderOrgs(orgs.items);
    drawFunnel($("funnel-chart"), overview);
    drawTrend($("trend-chart"), trend.items);
  } catch (err) {
    if (ticket === state.loading && !handle(err)) boardError(errorText(err));
  } finally {
    if (ticket === state.loading) document.body.classList.remove("busy");
  }
}

function drillTo(orgId: string | null): void {
  state.orgId = orgId;
  void refresh();
}

function renderOverview(o: Overview): void {
  $("org-title").textContent = `${o.org.name}（${zh(LEVEL_ZH, o.org.level)}）`;
  $("as-of").textContent = `数据截至 ${moment(o.as_of)}`;
  // The breadcrumb: from the caller's own org down to this one; the last is where we are.
  const crumbs = $("breadcrumb");
  crumbs.replaceChildren();
  o.path.forEach((p, i) => {
    if (i > 0) crumbs.append(h("span", { class: "sep", "aria-hidden": "true" }, "›"));
    const last = i === o.path.length - 1;
    if (last) {
      crumbs.append(h("span", { "data-testid": `crumb-${p.org_id}`, "aria-current": "page" }, p.name));
    } else {
      const a = h("a", { href: "#", "data-testid": `crumb-${p.org_id}` }, p.name);
      a.addEventListener("click", (e) => {
        e.preventDefault();
        drillTo(i === 0 ? null : p.org_id);
      });
      crumbs.append(a);
    }
  });

  const cards = $("cards");
  cards.replaceChildren(
    ...FUNNEL.map((k) => card(k, STAGE_ZH[k], o.funnel[k])),
    rateCard(o.funnel.registered, o.funnel.requirements_met),
  );
  const extra = $("extra-cards");
  const hours = Object.entries(o.hours_by_category ?? {});
  extra.replaceChildren(
    card("not_started", STAGE_ZH.not_started, Math.max(0, o.funnel.registered - o.funnel.started)),
    card("not_met", STAGE_ZH.not_met, Math.max(0, o.funnel.registered - o.funnel.requirements_met)),
    stat("reviews", "评审完成/分配", `${count(o.reviews?.done)} / ${count(o.reviews?.assigned)}`),
    stat("offline-county", "线下待初审", count(o.offline_waiting?.county_review)),
    stat("offline-city", "线下待审批", count(o.offline_waiting?.city_approval)),
    ...Object.entries(o.lessons ?? {}).map(([k, v]) => stat(`lessons-${k}`, `课例·${zh(LESSON_LEVEL_ZH, k)}`, count(v))),
    ...hours.map(([k, v]) => stat(`hours-${k}`, `${zh(CATEGORY_ZH, k)}学时`, v)),
  );
}

/** A number card; a number that has teachers behind it opens their list. */
function card(key: FunnelKey | "not_started" | "not_met", label: string, value: number): HTMLElement {
  const number = TEACHER_METRICS.has(key) || key === "not_started" || key === "not_met"
    ? h("button", { type: "button", class: "num link", "data-testid": `num-${key}`, "data-value": String(value), title: "查看教师名单" }, count(value))
    : h("span", { class: "num", "data-testid": `num-${key}`, "data-value": String(value) }, count(value));
  if (number instanceof HTMLButtonElement) number.addEventListener("click", () => void openTeachers(key, label));
  return h("div", { class: "card", "data-testid": `card-${key}` }, h("div", { class: "label" }, label), number);
}

function rateCard(registered: number, met: number): HTMLElement {
  const rate = registered > 0 ? met / registered : null;
  return stat("met-rate", "达标率", percent(rate));
}

function stat(key: string, label: string, text: string): HTMLElement {
  return h("div", { class: "card", "data-testid": `card-${key}` }, h("div", { class: "label" }, label), h("span", { class: "num", "data-testid": `num-${key}` }, text));
}

function renderOrgs(rows: OrgRow[]): void {
  const tbody = $("org-table").querySelector("tbody") as HTMLTableSectionElement;
  tbody.replaceChildren(
    ...rows.map((r) => {
      const name = r.has_children
        ? h("a", { href: "#", "data-testid": `drill-${r.org_id}` }, r.name)
        : h("span", { "data-testid": `org-name-${r.org_id}` }, r.name);
      if (name instanceof HTMLAnchorElement) {
        name.addEventListener("click", (e) => {
          e.preventDefault();
          drillTo(r.org_id);
        });
      }
      const cell = (field: string, value: number | null, text = count(value)) =>
        h("td", { class: "n", "data-testid": `org-${r.org_id}-${field}`, "data-value": value === null ? "" : String(value) }, text);
      return h(
        "tr",
        { "data-testid": `org-row-${r.org_id}`, "data-org-id": r.org_id },
        h("th", { scope: "row" }, name),
        ...FUNNEL.map((k) => cell(k, r[k])),
        cell("met_rate", r.met_rate, percent(r.met_rate)),
        h("td", { class: "n", "data-testid": `org-${r.org_id}-reviews` }, `${count(r.reviews_done)} / ${count(r.reviews_assigned)}`),
        cell("offline_waiting", r.offline_waiting),
      );
    }),
  );
  show($("org-empty"), rows.length === 0);
}

async function downloadXlsx(): Promise<void> {
  if (!state.projectId) return;
  try {
    const blob = await getBlob(`${API}/projects/${encodeURIComponent(state.projectId)}/orgs.xlsx`, { org_id: state.orgId });
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: `下级机构-${state.overview?.org.name ?? "org"}.xlsx` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    if (!handle(err)) boardError(errorText(err));
  }
}

// --- the teachers behind a number -------------------------------------------------------------

const teachers = { metric: "", cursors: [null] as (string | null)[], page: 0, next: null as string | null };

async function openTeachers(metric: string, label: string): Promise<void> {
  teachers.metric = metric;
  teachers.cursors = [null];
  teachers.page = 0;
  $("teachers-title").textContent = `${state.overview?.org.name ?? ""} · ${label}`;
  show($("teachers"), true);
  await loadTeachers();
}

async function loadTeachers(): Promise<void> {
  if (!state.projectId) return;
  const tbody = $("teachers").querySelector("tbody") as HTMLTableSectionElement;
  try {
    const page = await getJson<Page<Teacher>>(`${API}/projects/${encodeURIComponent(state.projectId)}/teachers`, {
      org_id: state.orgId,
      metric: teachers.metric,
      cursor: teachers.cursors[teachers.page],
      limit: PAGE_SIZE,
    });
    teachers.next = page.next_cursor;
    tbody.replaceChildren(
      ...page.items.map((t) =>
        h(
          "tr",
          { "data-testid": "teacher-row", "data-teacher-id": t.teacher_id },
          h("td", {}, t.name),
          h("td", {}, t.school_name),
          h("td", {}, zh(SCHOOL_STAGE_ZH, t.stage)),
          h("td", {}, t.subject ?? "—"),
          h("td", { class: "n" }, t.hours ?? "—"),
          h("td", {}, t.started_on ?? "—"),
          h("td", {}, t.met_on ?? "—"),
        ),
      ),
    );
    show($("teachers-empty"), page.items.length === 0);
    ($("teachers-prev") as HTMLButtonElement).disabled = teachers.page === 0;
    ($("teachers-next") as HTMLButtonElement).disabled = !page.next_cursor;
    $("teachers-page").textContent = `第 ${teachers.page + 1} 页`;
  } catch (err) {
    if (!handle(err)) {
      tbody.replaceChildren(h("tr", {}, h("td", { colspan: "7", class: "error" }, errorText(err))));
    }
  }
}

function teachersPage(step: 1 | -1): void {
  if (step === 1 && teachers.next) {
    teachers.cursors[teachers.page + 1] = teachers.next;
    teachers.page += 1;
  } else if (step === -1 && teachers.page > 0) {
    teachers.page -= 1;
  } else {
    return;
  }
  void loadTeachers();
}

// --- 待我处理: offline records waiting for this admin -----------------------------------------

const WAITING_TITLE: Record<string, string> = {
  county_admin: "待我处理（待初审）",
  city_admin: "待我处理（待审批）",
};
let waitingCursor: string | null = null;

async function loadWaiting(first: boolean): Promise<void> {
  const role = state.me?.role ?? "";
  const section = $("waiting");
  if (!(role in WAITING_TITLE)) {
    show(section, false);
    return;
  }
  $("waiting-title").textContent = WAITING_TITLE[role];
  const tbody = section.querySelector("tbody") as HTMLTableSectionElement;
  if (first) {
    waitingCursor = null;
    tbody.replaceChildren();
  }
  try {
    const page = await getJson<Page<Waiting>>(`${API}/waiting`, { cursor: waitingCursor, limit: PAGE_SIZE });
    tbody.append(
      ...page.items.map((w) =>
        h(
          "tr",
          { "data-testid": "waiting-row", "data-record-id": w.record_id },
          h("td", {}, w.name),
          h("td", {}, w.school_name),
          h("td", {}, w.training_name ?? "—"),
          h("td", {}, zh(CATEGORY_ZH, w.category)),
          h("td", { class: "n" }, w.hours),
          h("td", {}, w.status_zh || w.status),
          h("td", {}, moment(w.changed_at)),
        ),
      ),
    );
    waitingCursor = page.next_cursor;
    show(section, true);
    show($("waiting-empty"), tbody.children.length === 0);
    show($("waiting-more"), Boolean(page.next_cursor));
  } catch (err) {
    if (!handle(err)) show(section, false);
  }
}

// --- 运维概况: only where /api/v1/ops/status answers (province admins) ------------------------

async function loadOps(): Promise<void> {
  const panel = $("ops");
  let status: { services: ServiceStatus[] };
  try {
    status = await getJson<{ services: ServiceStatus[] }>("/api/v1/ops/status");
  } catch (err) {
    handle(err);
    show(panel, false);
    return;
  }
  const tbody = panel.querySelector("tbody") as HTMLTableSectionElement;
  tbody.replaceChildren(
    ...status.services.map((s) => {
      const dlqUrl = s.dlq_url ?? s.replay_url.replace(/\/replay$/, "");
      const link = h("a", { href: dlqUrl, "data-testid": `ops-${s.name}-replay`, title: `重放：POST ${s.replay_url}` }, "查看/重放");
      link.addEventListener("click", (e) => {
        e.preventDefault();
        void showDeadLetters(s, dlqUrl);
      });
      return h(
        "tr",
        { "data-testid": `ops-row-${s.name}`, class: `status-${s.status}` },
        h("th", { scope: "row" }, s.name),
        h("td", { "data-testid": `ops-${s.name}-ready` }, s.ready ? "是" : "否"),
        h("td", { "data-testid": `ops-${s.name}-status` }, zh(SERVICE_STATUS_ZH, s.status)),
        h("td", { class: "n", "data-testid": `ops-${s.name}-lag` }, count(s.consumer_lag)),
        h("td", { class: "n", "data-testid": `ops-${s.name}-outbox` }, s.outbox_age_seconds === null ? "—" : s.outbox_age_seconds.toFixed(1)),
        h("td", { class: "n", "data-testid": `ops-${s.name}-dlq` }, count(s.dlq_depth)),
        h("td", {}, link),
      );
    }),
  );
  show(panel, true);
}

async function showDeadLetters(s: ServiceStatus, url: string): Promise<void> {
  const note = $("ops-note");
  try {
    const page = await getJson<Page<unknown>>(url, { limit: 100 });
    note.textContent = `${s.name}：待处理死信 ${page.items.length}${page.next_cursor ? "+" : ""} 条。重放接口：POST ${s.replay_url}`;
  } catch (err) {
    if (handle(err)) return;
    note.textContent = `${s.name}：${errorText(err)}`;
  }
  show(note, true);
}

// --- wiring -----------------------------------------------------------------------------------

function wire(): void {
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void signIn(e.target as HTMLFormElement);
  });
  $("signout").addEventListener("click", () => void signOut());
  $("project-select").addEventListener("change", (e) => {
    state.projectId = (e.target as HTMLSelectElement).value;
    state.orgId = null;
    void refresh();
  });
  $("xlsx-link").addEventListener("click", (e) => {
    e.preventDefault();
    void downloadXlsx();
  });
  $("teachers-close").addEventListener("click", () => show($("teachers"), false));
  $("teachers").addEventListener("click", (e) => {
    if (e.target === $("teachers")) show($("teachers"), false);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") show($("teachers"), false);
  });
  $("teachers-prev").addEventListener("click", () => teachersPage(-1));
  $("teachers-next").addEventListener("click", () => teachersPage(1));
  $("waiting-more").addEventListener("click", () => void loadWaiting(false));
}

wire();
if (token()) void start();
else showSignIn();
