// Answers the room like the plan's people would: approves the go/no-go and promotes each clean
// cohort, on behalf of the users the plan names, and says so. Only the rehearsal does this.
import type { Plan } from '../../domain/plan.ts';
import type { Engine } from '../../runtime/engine.ts';
import type { ConsoleRoom } from './console-room.ts';
import type { RoleDirectory } from '../../ports.ts';

export const REHEARSAL_OPERATOR = 'U0REHEARSAL';

/** A group in the plan (S…) is played by one synthetic member. */
const groupMember = (group: string) => `${group}-member`;

export class RehearsalRoles implements RoleDirectory {
  async rolesOf(plan: Plan, user: string): Promise<string[]> {
    if (user === REHEARSAL_OPERATOR) return [...plan.approvals.start.roles];
    return Object.entries(plan.roles)
      .filter(([, members]) => members.some((m) => m === user || groupMember(m) === user))
      .map(([role]) => role);
  }
}

/** Distinct people holding any of `roles`, in plan order. */
function peopleFor(plan: Plan, roles: readonly string[]): Array<{ user: string; role: string }> {
  const seen = new Set<string>();
  const out: Array<{ user: string; role: string }> = [];
  for (const role of roles) {
    for (const member of plan.roles[role] ?? []) {
      const user = member.startsWith('S') ? groupMember(member) : member;
      if (!seen.has(user)) {
        seen.add(user);
        out.push({ user, role });
      }
    }
  }
  return out;
}

export function driveRehearsal(room: ConsoleRoom, engine: Engine, onStuck: (why: string) => void): void {
  let runningId: string | null = null;
  room.on('entry', (entry, view) => {
    runningId = view.state.id;
    if (entry.type !== 'notice') return;
    const { state, plan } = view;
    const act = async (action: 'approve' | 'promote', roles: readonly string[], label: string) => {
      for (const { user, role } of peopleFor(plan, roles)) {
        const result = await engine.command(state.id, { type: action, by: user });
        if (result.ok) room.line(`auto-${label} on behalf of ${user} (${role}) [rehearsal: nobody was asked]`);
        // A runbook checkpoint must be done first: try again when it is.
        if (!result.ok && result.refusal.code === 'checkpoint_blocking') return;
        const current = result.state ?? (await engine.store.loadState(state.id));
        const waiting = action === 'approve' ? 'awaiting_go_no_go' : 'awaiting_promotion';
        if (!current || current.phase !== waiting) return;
      }
      onStuck(`the plan does not name enough distinct people with ${roles.join('/')} to ${label}; a real cutover would wait here`);
    };
    if (entry.notice.kind === 'go_no_go_requested') void act('approve', plan.approvals.go_no_go.roles, 'approved the go/no-go');
    if (entry.notice.kind === 'soak_clean' && entry.notice.next === 'promotion') void act('promote', plan.approvals.promote.roles, 'promoted');
    if (entry.notice.kind === 'checkpoint_opened') void tickAll(entry.notice.index);
    if (entry.notice.kind === 'checkpoint_done') {
      if (state.phase === 'awaiting_go_no_go') void act('approve', plan.approvals.go_no_go.roles, 'approved the go/no-go');
      if (state.phase === 'awaiting_promotion') void act('promote', plan.approvals.promote.roles, 'promoted');
    }
    if (entry.notice.kind === 'signoff_requested') void signAll();
    if (entry.notice.kind === 'gate_check' && state.phase === 'hypercare') void closeHypercare();
  });

  const tickAll = async (index: number) => {
    const loaded = await engine.store.load(runningId ?? '');
    if (!loaded) return;
    const checkpoint = loaded.plan.timeline[index];
    const owner = checkpoint ? peopleFor(loaded.plan, [checkpoint.owner])[0] : undefined;
    if (!checkpoint || !owner) return;
    for (let item = 0; item < checkpoint.checklist.length; item++) {
      const result = await engine.command(loaded.state.id, { type: 'tick', by: owner.user, checkpoint: index, item });
      if (!result.ok) return;
    }
    room.line(`auto-ticked ${checkpoint.label} ${checkpoint.name} (${checkpoint.checklist.length} items) on behalf of ${owner.user} (${owner.role}) [rehearsal: nobody ticked anything]`);
  };

  const signAll = async () => {
    const loaded = await engine.store.load(runningId ?? '');
    if (!loaded) return;
    for (const [item, signOff] of loaded.plan.signOff.entries()) {
      const person = peopleFor(loaded.plan, [signOff.role])[0];
      if (!person) continue;
      const result = await engine.command(loaded.state.id, { type: 'sign_off', by: person.user, item });
      if (result.ok) room.line(`auto-signed off "${signOff.item}" on behalf of ${person.user} (${signOff.role}) [rehearsal]`);
    }
  };

  const closeHypercare = async () => {
    const loaded = await engine.store.load(runningId ?? '');
    if (!loaded?.plan.hypercare) return;
    const person = peopleFor(loaded.plan, loaded.plan.approvals.close.roles)[0];
    if (!person) return;
    const result = await engine.command(loaded.state.id, { type: 'close', by: person.user, reason: 'rehearsal: hypercare closed early' });
    if (result.ok) room.line(`auto-closed hypercare after its first check, on behalf of ${person.user} (${person.role}) [rehearsal: a real hypercare keeps the gates running for the plan's whole hypercare.duration]`);
  };
}
