// The cutover's chart, as data: canary against stable for the error rate and the p95 latency (two
// panels sharing the time axis), the canary's traffic share as a step line, and the decisions that
// moved it (go/no-go, promotions, holds, the rollback with its reason). Built only from what the bot
// already recorded (gate observations per check, the audit trail, the state), so any replica, after
// any restart, draws the same chart; nothing is measured for the picture. Pure: a view model, then
// a Vega-Lite spec and the same facts in words (the alt text). Rendering is src/charts' business.
// A train gets one chart per target (`chartModels`): that target's own gates and traffic share, the
// train's decisions, all on one time axis so the charts line up when read one after another.
import type { TopLevelSpec } from 'vega-lite';
import type { AuditEntry } from '../src/domain/audit.ts';
import type { Verdict } from '../src/domain/gates.ts';
import type { Plan } from '../src/domain/plan.ts';
import type { CutoverState, GateRecord, Notice } from '../src/domain/state.ts';
import { isTrain, revisionsOf, targetPercents, waveOf, type TrainPlan } from '../src/domain/train.ts';
import { HOLD_WORDS } from './words.ts';

/** The font the spec asks for; the renderer ships and loads exactly this one. */
export const CHART_FONT = 'DejaVu Sans';

export interface ChartInput {
  readonly state: CutoverState;
  readonly plan: Plan;
  readonly audit: readonly AuditEntry[];
  readonly gates: readonly GateRecord[];
  /** The end of the time axis while the cutover still runs (its end time once it has ended). */
  readonly now: number;
  /** Plan time per wall time: a rehearsal at x1000 shows the plan's minutes, not its seconds. */
  readonly speed?: number;
}

export type Series = 'canary' | 'stable';

export interface MetricPoint {
  /** Minutes (or hours, see `unit`) since T0. */
  readonly t: number;
  readonly series: Series;
  readonly value: number;
  /** The gate's verdict at this check (canary points only: stable is context, not judged). */
  readonly verdict: Verdict | null;
}

export interface MetricPanel {
  /** The gate whose observations are drawn, or null when no gate of the plan measures this. */
  readonly gate: string | null;
  readonly points: readonly MetricPoint[];
  /** The gate's own limit on the canary's value, when it has a numeric one. */
  readonly limit: number | null;
  /** A train target's chart drawing a whole-train gate (`scope: once`): none of the target's own measures this. */
  readonly wholeTrain?: true;
}

export type MarkerKind = 'go/no-go' | 'promotion' | 'hold' | 'rollback';

export interface Marker {
  readonly t: number;
  readonly kind: MarkerKind;
  /** Short, drawn on the chart. */
  readonly label: string;
  /** Whole, for the alt text. */
  readonly words: string;
}

export interface ChartModel {
  readonly title: string;
  readonly subtitle: string;
  readonly unit: 'minutes' | 'hours';
  /** The time axis, in `unit` since T0. */
  readonly domain: readonly [number, number];
  readonly errorRate: MetricPanel;
  readonly latency: MetricPanel;
  /** Canary percent from each time on: a step line. */
  readonly traffic: ReadonlyArray<{ readonly t: number; readonly percent: number }>;
  readonly markers: readonly Marker[];
  /** A train's chart is one target's: its index in the plan's train and its id. Absent for a single service. */
  readonly target?: { readonly index: number; readonly id: string };
}

/** Observation names: a canary's and stable's value of one metric, as the gate kinds record them. */
const METRICS = {
  errorRate: { canary: '5xx_ratio', stable: 'stable_5xx_ratio' },
  latency: { canary: 'p95_latency_ms', stable: 'stable_p95_latency_ms' },
} as const;

const MINUTE = 60_000;
const LABEL_MAX = 48;

const clipLabel = (text: string, max = LABEL_MAX) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** "<= 0.01" → 0.01; anything else (">= 1", "in 200, 204") is no line to draw. */
function upperLimit(threshold: string | undefined): number | null {
  const match = /^<=\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(threshold?.trim() ?? '');
  return match ? Number(match[1]) : null;
}

function numberOf(record: GateRecord, name: string): { value: number; threshold?: string } | null {
  const found = (record.measurement.observations ?? []).find((o) => o.name === name);
  return found && typeof found.value === 'number' && Number.isFinite(found.value) ? { value: found.value, ...(found.threshold ? { threshold: found.threshold } : {}) } : null;
}

/**
 * One gate per panel: the first stage gate (in plan order) that recorded the canary's value and
 * stable's beside it; failing that, the first that recorded the canary's alone. For a train's
 * target, its own gates are looked through first; a whole-train gate (`scope: once`) only when none
 * of them measures this. Such a gate is drawn on every target's chart, not only target 0's: each
 * chart is posted and read on its own, and a whole-train gate failing rolls back every target.
 */
function panel(input: ChartInput, names: { readonly canary: string; readonly stable: string }, at: (ms: number) => number, target?: number): MetricPanel {
  const stage = input.plan.gates.stage;
  const groups = target === undefined ? [stage] : [stage.filter((g) => g.target === target), stage.filter((g) => g.target === undefined)];
  const records = input.gates.filter((r) => r.phase === 'stage');
  const has = (gate: string, name: string) => records.some((r) => r.gate === gate && numberOf(r, name));
  let gate: string | null = null;
  let wholeTrain = false;
  for (const [i, gates] of groups.entries()) {
    const ids = gates.map((g) => g.id);
    gate = ids.find((g) => has(g, names.canary) && has(g, names.stable)) ?? ids.find((g) => has(g, names.canary)) ?? null;
    wholeTrain = target !== undefined && i > 0;
    if (gate) break;
  }
  if (!gate) return { gate: null, points: [], limit: null };
  const points: MetricPoint[] = [];
  let limit: number | null = null;
  for (const record of records) {
    if (record.gate !== gate) continue;
    const canary = numberOf(record, names.canary);
    const stable = numberOf(record, names.stable);
    if (canary) {
      points.push({ t: at(record.at), series: 'canary', value: canary.value, verdict: record.verdict });
      limit = upperLimit(canary.threshold) ?? limit;
    }
    if (stable) points.push({ t: at(record.at), series: 'stable', value: stable.value, verdict: null });
  }
  return { gate, points, limit, ...(wholeTrain ? { wholeTrain: true } : {}) };
}

/** Who took a rollback or a drop: the gates (automatic) or a person. */
const byWhom = (notice: { readonly trigger: 'gate' | 'manual'; readonly by: string | null }) => (notice.trigger === 'gate' ? 'automatic' : `by ${notice.by ?? 'someone'}`);

function markerOf(notice: Notice, t: number): Marker | null {
  switch (notice.kind) {
    case 'go':
      return { t, kind: 'go/no-go', label: 'GO', words: `GO given by ${notice.approvers.join(', ')}` };
    case 'rejected':
      return { t, kind: 'go/no-go', label: 'NO-GO', words: `NO-GO by ${notice.by}: ${notice.reason}` };
    case 'promoted':
      return { t, kind: 'promotion', label: `→ ${notice.to} %`, words: `promoted from ${notice.from} % to ${notice.to} % by ${notice.by}` };
    case 'soak_clean':
      return notice.next === 'auto' ? { t, kind: 'promotion', label: 'auto →', words: `promoted automatically after a clean soak at ${notice.percent} %` } : null;
    case 'held': {
      const why = notice.reason || HOLD_WORDS[notice.code];
      return { t, kind: 'hold', label: clipLabel(`hold: ${why}`), words: `held${notice.by ? ` by ${notice.by}` : ''}: ${why}` };
    }
    case 'resumed':
      return { t, kind: 'hold', label: 'resume', words: `resumed by ${notice.by}` };
    case 'rollback_started':
      return { t, kind: 'rollback', label: clipLabel(`rollback: ${notice.reason}`), words: `rolled back (${byWhom(notice)}) from ${notice.from} %: ${notice.reason}` };
    case 'target_dropped':
      return { t, kind: 'rollback', label: clipLabel(`drop: ${notice.reason}`), words: `target ${notice.target} dropped (${byWhom(notice)}): ${notice.reason}` };
    default:
      return null;
  }
}

type Step = { t: number; percent: number };

/** The chart's clock: its unit, and a record's time in that unit since T0 (plan time at `speed`). */
function clockOf(input: ChartInput) {
  const { state } = input;
  const speed = input.speed ?? 1;
  const end = state.endedAt ?? input.now;
  const spanMinutes = ((end - state.t0) * speed) / MINUTE;
  // Hypercare runs for days: thousands of minutes read worse than hours.
  const unit: ChartModel['unit'] = spanMinutes > 6 * 60 ? 'hours' : 'minutes';
  const per = unit === 'hours' ? 60 * MINUTE : MINUTE;
  const at = (ms: number) => Math.round((((ms - state.t0) * speed) / per) * 1000) / 1000;
  return { unit, at, end: at(end) };
}

/**
 * The decisions, as the service or the train took them: every chart of a train shows all of them,
 * in the train's words (see `trainMarker`).
 */
function markersOf(input: ChartInput, at: (ms: number) => number): Marker[] {
  const { plan } = input;
  let stage = -1;
  return input.audit.flatMap((entry) => {
    if (entry.type !== 'notice') return [];
    const { notice } = entry;
    if (notice.kind === 'shifting' || notice.kind === 'traffic_confirmed') stage = notice.stage;
    const marker = markerOf(notice, at(entry.at));
    if (!marker) return [];
    return [isTrain(plan) ? trainMarker(plan, marker, notice, stage) : marker];
  });
}

/**
 * A train's decision, for its targets' charts. Its rollback is not said to be "from" the cohort's
 * percent: in waves the earlier waves served 100 %, and each chart's traffic row shows what its
 * target served. A promotion into the next wave says so: "100 % → 1 %" is no step down for anyone.
 */
function trainMarker(plan: TrainPlan, marker: Marker, notice: Notice, stage: number): Marker {
  if (notice.kind === 'rollback_started') return { ...marker, words: `rolled back (${byWhom(notice)}): ${notice.reason}` };
  // A target dropped alone (`rollback: target`): named, on every target's chart.
  if (notice.kind === 'target_dropped') {
    const id = plan.train.targets[notice.target]?.id ?? `target ${notice.target}`;
    return { ...marker, label: clipLabel(`drop ${id}`), words: `${id} dropped (${byWhom(notice)}): ${notice.reason}` };
  }
  const from = notice.kind === 'soak_clean' ? notice.stage : stage;
  const promotion = notice.kind === 'promoted' || (notice.kind === 'soak_clean' && notice.next === 'auto');
  if (!promotion || from < 0 || from + 1 >= plan.stages.length || waveOf(plan, from + 1) === waveOf(plan, from)) return marker;
  const wave = waveOf(plan, from + 1) + 1;
  return notice.kind === 'promoted'
    ? { ...marker, label: `→ W${wave} ${notice.to} %`, words: `promoted to wave ${wave} at ${notice.to} % by ${notice.by}` }
    : { ...marker, label: `auto → W${wave}`, words: `${marker.words}, into wave ${wave}` };
}

/**
 * The canary percent a traffic notice says target `t` of a train serves, or null when it says
 * nothing about it. Its per-target reports when it carries them (a target that could not be read
 * or moved keeps its last share); an audit trail recorded before notices carried them gives the
 * cohort's share for each target (earlier waves at 100 %, later ones at 0 %), and a rollback 0 %.
 */
function targetPercent(plan: TrainPlan, notice: Notice, t: number): number | null {
  // A dropped target's own rollback reports only that target.
  if (notice.kind === 'target_back' || notice.kind === 'target_rollback_failed') return notice.targets?.find((r) => r.target === t)?.split?.canary ?? null;
  if (notice.kind !== 'traffic_confirmed' && notice.kind !== 'rolled_back' && notice.kind !== 'traffic_failed' && notice.kind !== 'rollback_failed') return null;
  if (notice.targets) return notice.targets.find((r) => r.target === t)?.split?.canary ?? null;
  if (notice.kind === 'traffic_confirmed') return targetPercents(plan, notice.stage, notice.percent)[t] ?? null;
  return notice.kind === 'rolled_back' ? notice.percent : null;
}

/** The canary's share each time it changed: the service's, or (given `target`) one target's of a train. */
function trafficOf(input: ChartInput, at: (ms: number) => number, target?: number): Step[] {
  const { plan } = input;
  const traffic: Step[] = [];
  for (const entry of input.audit) {
    if (entry.type !== 'notice') continue;
    const { notice } = entry;
    let percent: number | null = null;
    if (target !== undefined && isTrain(plan)) percent = targetPercent(plan, notice, target);
    else if (notice.kind === 'traffic_confirmed' || notice.kind === 'rolled_back') percent = notice.percent;
    // A target's line starts at 0 % (drawn anyway): a wave not started yet adds no step.
    const before = traffic.at(-1)?.percent ?? (target === undefined ? undefined : 0);
    if (percent !== null && before !== percent) traffic.push({ t: at(entry.at), percent });
  }
  return traffic;
}

/** What one chart draws before its axis is known: a service's, or one target's of a train. */
interface Drawn {
  readonly traffic: readonly Step[];
  readonly errorRate: MetricPanel;
  readonly latency: MetricPanel;
}

function drawn(input: ChartInput, at: (ms: number) => number, target?: number): Drawn {
  return { traffic: trafficOf(input, at, target), errorRate: panel(input, METRICS.errorRate, at, target), latency: panel(input, METRICS.latency, at, target) };
}

const timesOf = (d: Drawn): number[] => [...d.traffic.map((p) => p.t), ...d.errorRate.points.map((p) => p.t), ...d.latency.points.map((p) => p.t)];

/** The cutover's outcome in a few words; `percent`: the canary's share on this chart while it runs. */
function outcomeWords(state: CutoverState, markers: readonly Marker[], percent: number): string {
  const rollback = markers.find((m) => m.kind === 'rollback');
  const outcome = rollback
    ? `${state.outcome === 'failed' ? 'FAILED: ' : ''}${rollback.words}`
    : state.outcome
      ? { completed: 'completed: the canary serves 100 %', rolled_back: 'rolled back', aborted: 'aborted before traffic moved', failed: 'FAILED' }[state.outcome]
      : `running: ${percent} % on the canary`;
  return outcome.charAt(0).toUpperCase() + outcome.slice(1);
}

/** The model, once the time axis runs from `first` to `last`. */
function modelOf(d: Drawn, markers: readonly Marker[], unit: ChartModel['unit'], first: number, last: number, head: Pick<ChartModel, 'title' | 'subtitle' | 'target'>): ChartModel {
  // The step line starts at no traffic and runs to the end of the axis.
  const steps = [{ t: Math.min(first, d.traffic[0]?.t ?? first), percent: 0 }, ...d.traffic];
  steps.push({ t: last, percent: steps.at(-1)!.percent });
  return {
    title: head.title,
    subtitle: head.subtitle,
    unit,
    domain: [first, last > first ? last : first + 1],
    errorRate: d.errorRate,
    latency: d.latency,
    traffic: steps,
    markers,
    ...(head.target ? { target: head.target } : {}),
  };
}

/** The chart of a single-service cutover (for a train, see `chartModels`). */
export function chartModel(input: ChartInput): ChartModel {
  const { state, plan } = input;
  const { unit, at, end } = clockOf(input);
  const markers = markersOf(input, at);
  const d = drawn(input, at);
  const times = [end, 0, ...markers.map((m) => m.t), ...timesOf(d)];
  return modelOf(d, markers, unit, Math.min(...times), Math.max(...times), {
    title: `Cutover ${plan.name}: canary ${state.revisions.canary} vs stable ${state.revisions.stable}`,
    subtitle: clipLabel(outcomeWords(state, markers, state.traffic), 140),
  });
}

/**
 * The cutover's charts: one for a single service (`chartModel`), one per target for a train, each
 * with that target's own gates and traffic share and the train's decisions, all on one time axis.
 */
export function chartModels(input: ChartInput): ChartModel[] {
  const { state, plan } = input;
  if (!isTrain(plan)) return [chartModel(input)];
  const { unit, at, end } = clockOf(input);
  const markers = markersOf(input, at);
  const targets = plan.train.targets.map((_target, t) => drawn(input, at, t));
  const times = [end, 0, ...markers.map((m) => m.t), ...targets.flatMap(timesOf)];
  const [first, last] = [Math.min(...times), Math.max(...times)];
  const waves = plan.train.waves.length;
  return plan.train.targets.map((target, t) => {
    const d = targets[t]!;
    const revisions = revisionsOf(target);
    const where = waves > 1 ? `Wave ${target.wave + 1} of ${waves}` : `Lockstep, ${plan.train.targets.length} targets`;
    return modelOf(d, markers, unit, first, last, {
      title: `Cutover ${plan.name} (${target.id}, target ${t}): canary ${revisions.canary} vs stable ${revisions.stable}`,
      subtitle: clipLabel(`${where} · ${outcomeWords(state, markers, d.traffic.at(-1)?.percent ?? 0)}`, 140),
      target: { index: t, id: target.id },
    });
  });
}

// ---- the spec ----------------------------------------------------------------------------------

const COLOURS = { canary: '#d62728', stable: '#1f77b4' } as const;
const MARKER_COLOURS: Readonly<Record<MarkerKind, string>> = { 'go/no-go': '#2ca02c', promotion: '#7f7f7f', hold: '#ff7f0e', rollback: '#9467bd' };
const WIDTH = 760;

const unitWord = (model: ChartModel) => (model.unit === 'hours' ? 'h' : 'min');

/** `, gate five-xx@api-eu`; a whole-train gate on a target's chart says so. */
const gateWords = (panel: MetricPanel, before: string) => (panel.gate ? `${before}gate ${panel.gate}${panel.wholeTrain ? ' (whole train)' : ''}` : '');

/** The Vega-Lite spec: three rows sharing one time axis, plus a strip naming the decisions. */
/** Pixels a label takes: DejaVu Sans at 10 px averages under 6.2 px a character. */
const labelPixels = (label: string) => label.length * 6.2 + 10;

/**
 * Each marker's label on a lane of the decisions strip: the first lane where it overlaps no label
 * already placed, to the left of its marker when it would run off the right edge.
 */
function placeLabels(model: ChartModel) {
  const [d0, d1] = model.domain;
  const lanes: Array<Array<[number, number]>> = [];
  return model.markers.map((m) => {
    const x = ((m.t - d0) / (d1 - d0)) * WIDTH;
    const w = labelPixels(m.label);
    const side = x + w > WIDTH ? 'left' : 'right';
    const span: [number, number] = side === 'right' ? [x - 6, x + w] : [x - w, x + 6];
    let lane = lanes.findIndex((taken) => taken.every(([a, b]) => span[1] < a || span[0] > b));
    if (lane < 0) lane = lanes.push([]) - 1;
    lanes[lane]!.push(span);
    return { ...m, colour: MARKER_COLOURS[m.kind], lane, side };
  });
}

export function chartSpec(model: ChartModel): TopLevelSpec {
  const x = { field: 't', type: 'quantitative' as const, scale: { domain: [...model.domain], nice: false, zero: false } };
  const xHidden = { ...x, axis: { title: null, labels: false, ticks: false, domain: false, grid: true } };
  // The legend lists stable first, as the lines are drawn.
  const seriesColour = (legend: boolean) => ({
    field: 'series',
    type: 'nominal' as const,
    scale: { domain: ['stable', 'canary'], range: [COLOURS.stable, COLOURS.canary] },
    legend: legend ? { title: null, orient: 'top' as const, direction: 'horizontal' as const, offset: 4 } : null,
  });
  // The colour itself, no scale: a marker's colour never competes with the series' legend.
  const markerColour = { field: 'colour', type: 'nominal' as const, scale: null, legend: null };
  const markers = placeLabels(model);
  const rules = {
    data: { values: markers },
    mark: { type: 'rule' as const, strokeDash: [4, 3], strokeWidth: 1.2, opacity: 0.8 },
    // `stroke`, not `color`: the series' colour legend stays the series' alone.
    encoding: { x, stroke: markerColour },
  };

  const metric = (panel: MetricPanel, title: string, yTitle: string, format: string, height: number, legend: boolean) => {
    const layers: any[] = [
      rules,
      // One layer per series, stable's first: within one layer vega draws the series in the order
      // of their names, and stable's line would hide the canary's wherever they agree.
      ...(['stable', 'canary'] as const).map((series) => ({
        data: { values: panel.points },
        transform: [{ filter: `datum.series === '${series}'` }],
        mark: { type: 'line' as const, strokeWidth: 2, interpolate: 'linear' as const, point: { size: 18, filled: true } },
        encoding: { x: xHidden, y: { field: 'value', type: 'quantitative' as const, title: yTitle, axis: { format } }, color: seriesColour(legend) },
      })),
      {
        // The canary checks the gate did not pass, ringed.
        data: { values: panel.points.filter((p) => p.series === 'canary' && p.verdict !== 'pass' && p.verdict !== null) },
        mark: { type: 'point' as const, shape: 'circle', size: 90, strokeWidth: 2, color: '#000000', filled: false },
        encoding: { x: xHidden, y: { field: 'value', type: 'quantitative' as const } },
      },
    ];
    if (panel.limit !== null) {
      layers.push({
        data: { values: [{ limit: panel.limit }] },
        mark: { type: 'rule' as const, color: COLOURS.canary, strokeDash: [2, 2], opacity: 0.6 },
        encoding: { y: { field: 'limit', type: 'quantitative' as const } },
      });
    }
    if (panel.points.length === 0) {
      layers.push({
        data: { values: [{ text: panel.gate ? `gate ${panel.gate} has recorded no values yet` : 'no gate of this plan measures it' }] },
        mark: { type: 'text' as const, fontSize: 12, color: '#666666' },
        encoding: { text: { field: 'text' } },
      });
    }
    return {
      title: { text: title, anchor: 'start' as const, fontSize: 12, fontWeight: 'bold' as const },
      width: WIDTH,
      height,
      layer: layers,
    };
  };

  // `side`: where the label goes from its marker (to the left near the right edge, so it stays in view).
  const labelLayer = (side: 'left' | 'right') => ({
    data: { values: markers.filter((m) => m.side === side) },
    mark: { type: 'text' as const, align: side === 'right' ? ('left' as const) : ('right' as const), dx: side === 'right' ? 7 : -7, fontSize: 10, baseline: 'middle' as const },
    encoding: { x: xHidden, y: { field: 'lane', type: 'ordinal' as const, axis: null }, text: { field: 'label' }, fill: markerColour },
  });

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: model.title, subtitle: model.subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#444444' },
    background: '#ffffff',
    padding: 12,
    config: { font: CHART_FONT, view: { stroke: '#dddddd' }, axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eeeeee' } },
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        title: { text: 'Decisions', anchor: 'start', fontSize: 12, fontWeight: 'bold' },
        width: WIDTH,
        height: Math.max(2, ...markers.map((m) => m.lane + 1)) * 17,
        layer: [
          rules,
          {
            data: { values: markers },
            mark: { type: 'point', shape: 'triangle-down', size: 70, filled: true },
            encoding: { x: xHidden, y: { field: 'lane', type: 'ordinal', axis: null }, fill: markerColour },
          },
          labelLayer('right'),
          labelLayer('left'),
        ],
      },
      metric(model.errorRate, `Error rate (5xx share)${gateWords(model.errorRate, ', ')}`, '5xx', '.2~%', 150, model.errorRate.points.length > 0),
      metric(model.latency, `p95 latency${gateWords(model.latency, ', ')}`, 'ms', '~s', 150, model.errorRate.points.length === 0),
      {
        title: { text: 'Canary traffic share', anchor: 'start', fontSize: 12, fontWeight: 'bold' },
        width: WIDTH,
        height: 80,
        layer: [
          rules,
          {
            data: { values: model.traffic },
            mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, color: COLOURS.canary },
            encoding: {
              x: { ...x, axis: { title: `${model.unit === 'hours' ? 'hours' : 'minutes'} since T0 (T+${unitWord(model)})`, grid: true } },
              y: { field: 'percent', type: 'quantitative', title: '% canary', scale: { domain: [0, 100] }, axis: { values: [0, 25, 50, 75, 100] } },
            },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

// ---- the same in words ---------------------------------------------------------------------------

const percent = (ratio: number) => `${Number((ratio * 100).toFixed(2))} %`;
const ms = (value: number) => `${Math.round(value)} ms`;

function metricWords(name: string, panel: MetricPanel, show: (v: number) => string, when: (t: number) => string): string {
  if (!panel.gate) return `${name}: no gate of this plan measures it.`;
  const canary = panel.points.filter((p) => p.series === 'canary');
  const stable = panel.points.filter((p) => p.series === 'stable');
  if (canary.length === 0) return `${name} (${gateWords(panel, '')}): no values recorded yet.`;
  const peak = canary.reduce((a, b) => (b.value > a.value ? b : a));
  const last = canary.at(-1)!;
  const lastStable = stable.at(-1);
  const limit = panel.limit !== null ? `, limit ${show(panel.limit)}` : '';
  return `${name} (${gateWords(panel, '')}${limit}): canary last ${show(last.value)}${lastStable ? ` against stable ${show(lastStable.value)}` : ''}, peak ${show(peak.value)} at ${when(peak.t)}, over ${canary.length} checks.`;
}

/** What the chart shows, in words: the alt text of the image and the comment it is posted with. */
export function chartAltText(model: ChartModel, max = 1000): string {
  const when = (t: number) => `T${t < 0 ? '-' : '+'}${Number(Math.abs(t).toFixed(1))} ${unitWord(model)}`;
  const steps = model.traffic.filter((s, i, all) => i === 0 || s.percent !== all[i - 1]!.percent).map((s) => `${s.percent} %`);
  const parts = [
    `${model.title} (${model.subtitle}).`,
    metricWords('Error rate', model.errorRate, percent, when),
    metricWords('p95 latency', model.latency, ms, when),
    `Canary traffic: ${steps.join(' → ')}.`,
    model.markers.length ? `Decisions: ${model.markers.map((m) => `${when(m.t)} ${m.words}`).join('; ')}.` : 'No decisions yet.',
  ];
  const text = parts.join(' ');
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
