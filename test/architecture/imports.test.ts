// The layering of docs/architecture.md, enforced: a forbidden import fails here with the file that
// made it. Read top to bottom, each layer may import the ones below it and nothing above.
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, type Edge } from './import-graph.ts';

const graph = importGraph();
const internal = graph.filter((e) => !e.external);
const under = (dir: string) => (path: string) => path === dir || path.startsWith(`${dir}/`);

const inDomain = under('src/domain');
const inTemplates = under('templates');
const inApp = under('src/app');
const inJobs = under('jobs');
const inCommands = under('commands');

/** Pure npm packages the domain may use: special functions for the canary judge's statistics. */
const DOMAIN_PACKAGES = /^@stdlib\//;

const show = (edges: readonly Edge[]) => edges.map((e) => `${e.from} -> ${e.to}`);

describe('import rules', () => {
  it('reads a graph of the production code', () => {
    // Guards the reader itself: a regex that matched nothing would pass every rule below.
    expect(internal.length).toBeGreaterThan(200);
    expect(internal).toContainEqual({ from: 'src/app/main.ts', to: 'src/app/runtime.ts', external: false });
  });

  it('the domain is pure: it imports only itself (and pure math packages)', () => {
    const bad = graph.filter((e) => inDomain(e.from) && (e.external ? !DOMAIN_PACKAGES.test(e.to) : !inDomain(e.to)));
    expect(show(bad)).toEqual([]);
  });

  it('templates import only the domain, each other, and packages', () => {
    const bad = internal.filter((e) => inTemplates(e.from) && !inTemplates(e.to) && !inDomain(e.to));
    expect(show(bad)).toEqual([]);
  });

  it('nothing imports src/app (the composition root and entry points)', () => {
    const bad = internal.filter((e) => inApp(e.to) && !inApp(e.from));
    expect(show(bad)).toEqual([]);
  });

  it('src/ (adapters, engine, store) imports neither jobs/ nor commands/', () => {
    const bad = internal.filter((e) => under('src')(e.from) && !inApp(e.from) && (inJobs(e.to) || inCommands(e.to)));
    expect(show(bad)).toEqual([]);
  });

  it('commands/ does not import jobs/: listeners hand work over through a port', () => {
    const bad = internal.filter((e) => inCommands(e.from) && inJobs(e.to));
    expect(show(bad)).toEqual([]);
  });

  it('adapters hold no policy: they import no engine, store, jobs or commands', () => {
    const adapter = (p: string) => ['src/traffic', 'src/gates', 'src/sim', 'src/cloud', 'src/slack'].some((d) => under(d)(p));
    const bad = internal.filter((e) => adapter(e.from) && ['src/runtime', 'src/store', 'jobs', 'commands'].some((d) => under(d)(e.to)));
    expect(show(bad)).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });
});
