// The interface's words (简体中文).

export const STAGE_ZH: Record<string, string> = {
  registered: "已报名",
  plan_active: "计划生效",
  started: "已开始学习",
  requirements_met: "达到要求",
  credits_registered: "学分已登记",
  certificates_issued: "已发证书",
  year_complete: "年度完成",
  not_started: "未开始学习",
  not_met: "未达要求",
};

export const ROLE_ZH: Record<string, string> = {
  province_admin: "省级管理员",
  city_admin: "市级管理员",
  county_admin: "区县管理员",
  school_admin: "学校管理员",
};

export const LEVEL_ZH: Record<string, string> = {
  province: "省",
  city: "市",
  county: "区县",
  school: "学校",
};

export const SCHOOL_STAGE_ZH: Record<string, string> = {
  kindergarten: "幼儿园",
  primary: "小学",
  junior: "初中",
  junior_high: "初中",
  senior: "高中",
  senior_high: "高中",
  secondary_vocational: "中职",
  special: "特殊教育",
};

export const LESSON_LEVEL_ZH: Record<string, string> = {
  submitted: "晒课",
  school: "校级遴选",
  county: "县级遴选",
  city: "市级遴选",
  province: "省级优课",
  awarded: "获奖",
};

export const SERVICE_STATUS_ZH: Record<string, string> = {
  ok: "正常",
  degraded: "降级",
  down: "不可用",
};

export function zh(table: Record<string, string>, key: string | null | undefined): string {
  if (key === null || key === undefined) return "—";
  return table[key] ?? key;
}

// Hour categories of the rule sets (learning.catalog); an unknown one shows as it is.
export const CATEGORY_ZH: Record<string, string> = {
  subject_required: "学科必修",
  general_elective: "通识选修",
  school_based: "校本研修",
  review: "观评课",
  learning: "课程学习",
  offline: "线下培训",
  practice: "实践",
};
