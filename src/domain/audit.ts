// The audit trail: every notice, escalation and refusal of a cutover, in order, once.
// It is also the war room's outbox: the notifier posts each entry after the one before.
import type { Escalation, Notice, RefusalCode } from './state.ts';

export type AuditEntry =
  | { readonly type: 'notice'; readonly at: number; readonly version: number; readonly notice: Notice }
  | { readonly type: 'escalation'; readonly at: number; readonly version: number; readonly escalation: Escalation }
  | {
      readonly type: 'refused';
      readonly at: number;
      readonly by: string;
      readonly action: string;
      readonly code: RefusalCode | string;
      readonly detail?: string;
    }
  | { readonly type: 'evidence'; readonly at: number; readonly path: string; readonly files: readonly string[] };
