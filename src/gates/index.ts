// The gate kinds the engine knows. Cloud kinds are added by the composition root.
import type { AnyGateKind } from '../ports.ts';
import { commandGate } from './command.ts';
import { httpGate } from './http.ts';
import { prometheusGate } from './prometheus.ts';
import { sloSnapshotGate } from './slo-snapshot.ts';

export const BUILTIN_GATE_KINDS: readonly AnyGateKind[] = [commandGate, httpGate, sloSnapshotGate, prometheusGate];
