// A few screens' worth of calls, written against the generated types: `npm run check` fails
// when docs/openapi.json changes under them (tests/test_typescript_client.py runs it).
import createClient from "openapi-fetch";

import type { components, operations, paths } from "./schema";

export type Problem = components["schemas"]["Problem"];
export type TeacherPage =
  operations["listTeachers"]["responses"][200]["content"]["application/json"];
export type Teacher = components["schemas"]["enrollment.TeacherRead"];
export type CertificateCheck =
  operations["verifyCertificate"]["responses"][200]["content"]["application/json"];

// Every refusal is a Problem, whatever the status.
type TeacherMissing =
  operations["getTeacher"]["responses"][404]["content"]["application/problem+json"];
type SignInRefused =
  operations["issueToken"]["responses"][401]["content"]["application/problem+json"];
type Invalid =
  operations["createTeacher"]["responses"][422]["content"]["application/problem+json"];
export const refusals: Problem[] = [] as Array<TeacherMissing | SignInRefused | Invalid>;

// An export is a file, not JSON.
export type TeachersWorkbook =
  operations["exportTeachers"]["responses"][200]["content"]["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"];

export function explain(problem: Problem): string {
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
  return [`${problem.status} ${problem.code}: ${problem.detail}`, ...fields].join("\n");
}

export const api = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });

export async function signIn(username: string, password: string): Promise<string> {
  const { data, error } = await api.POST("/api/v1/auth/token", {
    body: { username, password },
  });
  if (error) throw new Error(explain(error));
  return data.access_token;
}

export async function teacherNames(token: string, schoolId: string): Promise<string[]> {
  const { data, error } = await api.GET("/api/v1/enrollment/teachers", {
    params: { query: { school_id: schoolId, limit: 50 } },
    headers: { Authorization: `Bearer ${token}` },
  });
  if (error) throw new Error(explain(error));
  const page: TeacherPage = data;
  return page.items.map((teacher: Teacher) => teacher.name);
}

export async function checkCertificate(code: string): Promise<boolean> {
  // Public: no token.
  const { data } = await api.GET("/api/v1/credits/certificates/verify/{code}", {
    params: { path: { code } },
  });
  const check: CertificateCheck | undefined = data;
  return check?.valid ?? false;
}

// What type-checking must refuse, so that a change of the contract shows here.
export async function misuse(token: string): Promise<void> {
  // @ts-expect-error: limit is a number
  await api.GET("/api/v1/enrollment/teachers", { params: { query: { limit: "50" } } });
  // @ts-expect-error: no such path
  await api.GET("/api/v1/enrollment/teacher", {});
  // @ts-expect-error: a teacher has no `salary`
  const salary: number = ({} as Teacher).salary;
  // @ts-expect-error: a Problem's code is text
  const code: number = ({} as Problem).code;
  void [token, salary, code];
}
