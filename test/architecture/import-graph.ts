// The project's import graph, read from the source text: every relative import, re-export and
// dynamic import of the production folders, resolved to repository paths. Type-only imports count:
// a type that crosses a layer couples the layers as much as a value does.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The production code: what `npm start` and `npm run rehearse` can load. */
export const PRODUCTION = ['src', 'commands', 'jobs', 'templates'] as const;

export interface Edge {
  readonly from: string;
  /** A repository path for a relative import; the package name for a bare one. */
  readonly to: string;
  readonly external: boolean;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `@google-cloud/run/build/x` → `@google-cloud/run`; `node:fs` → `node:fs`. */
const packageOf = (specifier: string): string => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
};

export function importGraph(dirs: readonly string[] = PRODUCTION): Edge[] {
  return dirs.flatMap(walk).flatMap((file) => {
    // Comments may quote an import; they are not edges.
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    return [...text.matchAll(SPECIFIER)].map(([, , specifier = '']): Edge => {
      if (!specifier.startsWith('.')) return { from: file, to: packageOf(specifier), external: true };
      return { from: file, to: relative(ROOT, resolve(ROOT, dirname(file), specifier)), external: false };
    });
  });
}

/** Every import cycle among the files, each once, as a list of paths. */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.external) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      if (state.get(to) === 'open') {
        const cycle = stack.slice(stack.indexOf(to));
        const key = [...cycle].sort().join(' ');
        if (!found.has(key)) found.set(key, [...cycle, to]);
      } else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of next.keys()) if (!state.has(node)) visit(node);
  return [...found.values()];
}
