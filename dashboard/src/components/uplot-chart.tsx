import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Series } from "../lib/types.js";

/** One line of a chart. */
export interface ChartLine {
  label: string;
  values: Series;
  dashed?: boolean;
}

// Distinct on white and for common colour blindness (Okabe-Ito, then darker tones).
const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000", "#7f3c8d", "#11a579"];

/** A time chart drawn by uPlot on a canvas; sized to its container, redrawn as data comes. */
export function UPlotChart(props: { title: string; unit: string; t: number[]; lines: ChartLine[]; id: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = JSON.stringify([props.lines.map((l) => [l.label, l.dashed === true]), props.t.length < 3]);
  const data = (): uPlot.AlignedData => [props.t.map((ms) => ms / 1000), ...props.lines.map((l) => l.values)];

  // Built again when the lines change (a new operator); otherwise only fed new data.
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const few = props.t.length < 3;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 190,
      scales: { x: { time: true } },
      series: [
        {},
        ...props.lines.map((line, i) => ({
          label: line.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          ...(line.dashed && { dash: [6, 4] }),
          points: { show: few },
        })),
      ],
      axes: [{}, { label: props.unit, size: 64, labelSize: 18 }],
      legend: { live: true },
    };
    plot.current = new uPlot(options, data(), element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height: 190 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data());
  }, [props.t, props.lines]);

  return (
    <figure class="chart" data-chart={props.id} data-points={props.t.length}>
      <figcaption>{props.title}</figcaption>
      <div ref={host} class="chart-canvas" />
    </figure>
  );
}
