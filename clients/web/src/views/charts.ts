// Small charts drawn as inline SVG: horizontal bars, a Pareto, a line.
// Each comes in a figure with a caption, an accessible summary and a table
// of its figures, so that nothing is shown only as a shape.
import { h, type Child } from "../dom";
import { t } from "../i18n";

const SVG = "http://www.w3.org/2000/svg";
// Drawn in a 360-unit-wide box that the figure scales to its width: about
// one unit a pixel on a phone.
const WIDTH = 360;

type SvgAttrs = Record<string, string | number | undefined>;

export function s(tag: string, attrs: SvgAttrs = {}, ...children: (SVGElement | string | null)[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null) continue;
    element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

function svgRoot(height: number, label: string, ...children: (SVGElement | null)[]): SVGElement {
  return s(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-label": label, class: "chart-svg", preserveAspectRatio: "xMinYMin meet" },
    s("title", {}, label),
    ...children,
  );
}

// A figure: the title as its caption, the chart, a summary line and the
// figures as a table that opens on demand.
export function figure(id: string, title: string, summary: string, chart: Child, table: HTMLTableElement | null, extra: Child = null): HTMLElement {
  return h(
    "figure",
    { class: "chart card", dataset: { chart: id }, "aria-labelledby": `${id}-title` },
    h("figcaption", null, h("h2", { id: `${id}-title` }, title), h("p", { class: "chart-summary" }, summary)),
    chart,
    extra,
    table ? h("details", { class: "chart-data" }, h("summary", null, t("dash.table")), table) : null,
  );
}

export function dataTable(caption: string, headings: string[], rows: (string | number)[][], numeric: boolean[] = []): HTMLTableElement {
  return h(
    "table",
    null,
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", null, h("tr", null, headings.map((heading, i) => h("th", { scope: "col", class: numeric[i] ? "num" : undefined }, heading)))),
    h(
      "tbody",
      null,
      rows.map((row) =>
        h(
          "tr",
          null,
          row.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, String(cell)) : h("td", { class: numeric[i] ? "num" : undefined }, String(cell)))),
        ),
      ),
    ),
  );
}

export function empty(text: string): HTMLElement {
  return h("p", { class: "empty chart-empty" }, text);
}

export type Bar = {
  label: string;
  // One or more values drawn as bars side by side in the row.
  values: number[];
  texts: string[];
  data?: Record<string, string>;
};

// Horizontal bars, one row per label, each with up to a few series; the
// value is written beside each bar.
export function barChart(label: string, bars: Bar[], seriesClasses: string[], legend: string[] = []): SVGElement {
  const labelWidth = 112;
  const valueWidth = 64;
  const barArea = WIDTH - labelWidth - valueWidth;
  const series = Math.max(1, ...bars.map((bar) => bar.values.length));
  const barHeight = 14;
  const rowHeight = series * barHeight + 10;
  const legendHeight = legend.length ? 22 : 0;
  const max = Math.max(0, ...bars.flatMap((bar) => bar.values));
  const height = legendHeight + bars.length * rowHeight + 6;
  const parts: SVGElement[] = [];
  legend.forEach((name, i) => {
    const x = labelWidth + i * 110;
    parts.push(s("rect", { x, y: 4, width: 12, height: 12, class: seriesClasses[i] }));
    parts.push(s("text", { x: x + 16, y: 14, class: "legend" }, name));
  });
  bars.forEach((bar, row) => {
    const top = legendHeight + row * rowHeight + 4;
    const group = s("g", { class: "bar-row", ...(bar.data ?? {}) });
    group.appendChild(s("text", { x: labelWidth - 6, y: top + (series * barHeight) / 2 + 4, "text-anchor": "end", class: "axis-label" }, clip(bar.label, 17)));
    bar.values.forEach((value, i) => {
      const width = max > 0 ? Math.max(value > 0 ? 2 : 0, (value / max) * barArea) : 0;
      const y = top + i * barHeight;
      group.appendChild(s("rect", { x: labelWidth, y, width: width.toFixed(1), height: barHeight - 2, class: seriesClasses[i] }, s("title", {}, `${bar.label}: ${bar.texts[i]}`)));
      group.appendChild(s("text", { x: labelWidth + width + 4, y: y + barHeight - 4, class: "value" }, bar.texts[i]));
    });
    parts.push(group);
  });
  parts.push(s("line", { x1: labelWidth, y1: legendHeight, x2: labelWidth, y2: height - 2, class: "axis" }));
  return svgRoot(height, label, ...parts);
}

export type ParetoItem = { label: string; kind: string; count: number; cumulative: number; data: Record<string, string> };

// A Pareto laid on its side for narrow screens: the most frequent reason
// first, a bar for its count, and the cumulative share as a line down
// the rows on a 0-100% scale.
export function paretoChart(label: string, items: ParetoItem[], legend: [string, string][]): SVGElement {
  const labelWidth = 128;
  const valueWidth = 84;
  const area = WIDTH - labelWidth - valueWidth;
  const rowHeight = 24;
  const top = 24;
  const height = top + items.length * rowHeight + 22;
  const max = Math.max(1, ...items.map((item) => item.count));
  const parts: SVGElement[] = [];
  legend.forEach(([kind, name], i) => {
    const x = labelWidth + i * 90;
    parts.push(s("rect", { x, y: 4, width: 12, height: 12, class: `series-${kind}` }));
    parts.push(s("text", { x: x + 16, y: 14, class: "legend" }, name));
  });
  const points: string[] = [];
  items.forEach((item, row) => {
    const y = top + row * rowHeight;
    const width = Math.max(2, (item.count / max) * area);
    const group = s("g", { class: "bar-row", ...item.data });
    group.appendChild(s("text", { x: labelWidth - 6, y: y + 15, "text-anchor": "end", class: "axis-label" }, clip(item.label, 19)));
    group.appendChild(s("rect", { x: labelWidth, y: y + 3, width: width.toFixed(1), height: rowHeight - 8, class: `series-${item.kind}` }, s("title", {}, `${item.label}: ${item.count}`)));
    group.appendChild(s("text", { x: WIDTH - valueWidth + 4, y: y + 15, class: "value" }, `${item.count} · ${formatPercent(item.cumulative)}`));
    parts.push(group);
    points.push(`${(labelWidth + (item.cumulative / 100) * area).toFixed(1)},${y + rowHeight / 2}`);
  });
  const bottom = top + items.length * rowHeight + 2;
  parts.push(s("line", { x1: labelWidth, y1: top, x2: labelWidth, y2: bottom, class: "axis" }));
  parts.push(s("polyline", { points: points.join(" "), class: "cumulative" }));
  for (const point of points) {
    const [x, y] = point.split(",");
    parts.push(s("circle", { cx: x, cy: y, r: 3, class: "cumulative-dot" }));
  }
  for (const tick of [0, 50, 100]) {
    const x = labelWidth + (tick / 100) * area;
    parts.push(s("text", { x, y: bottom + 14, "text-anchor": "middle", class: "tick" }, `${tick}%`));
  }
  return svgRoot(height, label, ...parts);
}

export type Point = { label: string; value: number | null; text: string; data: Record<string, string> };

// A line over the periods of the range, 0-100%; periods without figures
// leave a gap and no point.
export function percentLine(label: string, points: Point[]): SVGElement {
  const left = 36;
  const right = 12;
  const top = 14;
  const plotHeight = 140;
  const height = top + plotHeight + 34;
  const area = WIDTH - left - right;
  const step = points.length > 1 ? area / (points.length - 1) : 0;
  const x = (i: number) => (points.length > 1 ? left + i * step : left + area / 2);
  const y = (value: number) => top + plotHeight - (value / 100) * plotHeight;
  const parts: SVGElement[] = [];
  for (const tick of [0, 50, 100]) {
    parts.push(s("line", { x1: left, y1: y(tick), x2: WIDTH - right, y2: y(tick), class: tick === 0 ? "axis" : "grid" }));
    parts.push(s("text", { x: left - 4, y: y(tick) + 4, "text-anchor": "end", class: "tick" }, `${tick}%`));
  }
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1) parts.push(s("polyline", { points: run.join(" "), class: "trend" }));
    run = [];
  };
  const labelled = points.filter((point) => point.value !== null).length <= 12;
  points.forEach((point, i) => {
    if (point.value === null) {
      flush();
      return;
    }
    run.push(`${x(i).toFixed(1)},${y(point.value).toFixed(1)}`);
    const group = s("g", { class: "point", ...point.data });
    group.appendChild(s("circle", { cx: x(i).toFixed(1), cy: y(point.value).toFixed(1), r: 4, class: "trend-dot" }, s("title", {}, `${point.label}: ${point.text}`)));
    if (labelled) {
      group.appendChild(s("text", { x: x(i).toFixed(1), y: (y(point.value) - 8).toFixed(1), "text-anchor": "middle", class: "value" }, point.text));
    }
    parts.push(group);
  });
  flush();
  if (points.length > 0) {
    parts.push(s("text", { x: x(0), y: height - 8, "text-anchor": points.length > 1 ? "start" : "middle", class: "tick" }, points[0].label));
    if (points.length > 1) parts.push(s("text", { x: x(points.length - 1), y: height - 8, "text-anchor": "end", class: "tick" }, points[points.length - 1].label));
  }
  return svgRoot(height, label, ...parts);
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

export function formatPercent(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded : rounded.toFixed(1)}%`;
}

// "45 s", "12 min", "3.4 h", "2.1 d".
export function formatDuration(seconds: number): string {
  const round = (value: number) => (value >= 10 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString());
  if (seconds < 60) return t("dash.seconds", { n: round(seconds) });
  if (seconds < 3600) return t("dash.minutes", { n: round(seconds / 60) });
  if (seconds < 86400) return t("dash.hours", { n: round(seconds / 3600) });
  return t("dash.days", { n: round(seconds / 86400) });
}
