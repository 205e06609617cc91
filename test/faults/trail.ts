// Helpers the fault tests share: what a cutover's audit trail says, and whether the war room in
// the fake Slack showed it in order (each notice in the card's thread, none skipped, none moved).
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Plan } from '../../src/domain/plan.ts';
import type { CutoverState, Notice } from '../../src/domain/state.ts';
import type { CutoverStore } from '../../src/store/cutover-store.ts';
import { threadNotice } from '../../templates/messages.ts';
import type { FakeSlack } from '../fakes/slack-api.ts';

export async function auditOf(store: CutoverStore, id: string): Promise<AuditEntry[]> {
  return (await store.readAudit(id, '-', 100_000)).map((a) => a.entry);
}

export const noticesOf = <K extends Notice['kind']>(audit: readonly AuditEntry[], kind: K): Array<Extract<Notice, { kind: K }>> =>
  audit.flatMap((e) => (e.type === 'notice' && e.notice.kind === kind ? [e.notice as Extract<Notice, { kind: K }>] : []));

/** The canary percents of the `traffic_confirmed` notices, in order. */
export const confirmedPercents = (audit: readonly AuditEntry[]): number[] => noticesOf(audit, 'traffic_confirmed').map((n) => n.percent);

/** An audit trail reduced to what does not depend on timing: kinds of notices and escalations, refusals' codes. */
export const shapeOf = (audit: readonly AuditEntry[]): string[] =>
  audit.map((e) => {
    switch (e.type) {
      case 'notice':
        return e.notice.kind === 'traffic_confirmed' || e.notice.kind === 'shifting' ? `${e.notice.kind}:${e.notice.percent}` : e.notice.kind;
      case 'escalation':
        return `escalation:${e.escalation.code}`;
      case 'refused':
        return `refused:${e.action}:${e.code}`;
      case 'evidence':
        return 'evidence';
    }
  });

/**
 * The card's thread as the room posted it, next to what the audit trail says it should show:
 * every notice's line, in audit order. Status-page drafts and file shares are left out, and a
 * line repeated right after itself counts once (a notifier cut off between posting and moving its
 * cursor posts that entry again; it never skips or reorders one).
 */
export function threadAgainstAudit(fake: FakeSlack, channel: string, cardTs: string, audit: readonly AuditEntry[], plan: Plan, state: CutoverState) {
  const expected = audit.flatMap((e) => (e.type === 'notice' ? [threadNotice(e.notice, { state, plan }).text] : []));
  const posted = fake
    .thread(channel, cardTs)
    .filter((m) => m.files.length === 0 && !m.text.includes('Status page draft') && !m.text.startsWith('Evidence package'))
    .map((m) => m.text);
  const actual = posted.filter((text, i) => text !== posted[i - 1]);
  return { expected, actual, repeats: posted.length - actual.length };
}
