// The two charts, with only the parts of ECharts they use (a smaller bundle).
import { FunnelChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

import { FUNNEL, type Overview, type TrendDay } from "./api";
import { STAGE_ZH } from "./labels";

echarts.use([FunnelChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const charts = new Map<HTMLElement, echarts.ECharts>();

function chartOn(el: HTMLElement): echarts.ECharts {
  let chart = charts.get(el);
  if (!chart) {
    chart = echarts.init(el, undefined, { renderer: "canvas" });
    charts.set(el, chart);
  }
  return chart;
}

window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

export function drawFunnel(el: HTMLElement, overview: Overview): void {
  const data = FUNNEL.map((k) => ({ name: STAGE_ZH[k], value: overview.funnel[k] ?? 0 }));
  const max = Math.max(1, ...data.map((d) => d.value));
  chartOn(el).setOption(
    {
      tooltip: { trigger: "item", formatter: "{b}：{c}" },
      series: [
        {
          type: "funnel",
          sort: "none",
          min: 0,
          max,
          left: "5%",
          width: "90%",
          top: 8,
          bottom: 8,
          gap: 2,
          label: { show: true, position: "inside", formatter: "{b} {c}" },
          data,
        },
      ],
    },
    true,
  );
}

const TREND_KEYS = ["registered", "plan_active", "started", "requirements_met"] as const;

export function drawTrend(el: HTMLElement, days: TrendDay[]): void {
  chartOn(el).setOption(
    {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: days.map((d) => d.day.slice(5)) },
      yAxis: { type: "value", minInterval: 1 },
      series: TREND_KEYS.map((k) => ({
        name: STAGE_ZH[k],
        type: "line",
        showSymbol: false,
        data: days.map((d) => d[k]),
      })),
    },
    true,
  );
}

export function clearCharts(): void {
  charts.forEach((c) => c.dispose());
  charts.clear();
}
