// Answers the room like the plan's people would: starts the cutover, approves the go/no-go,
// promotes each clean cohort, ticks checklists, signs off and closes hypercare, each time as a
// person the plan names in the role that action needs, and says so before it acts.
// Only the rehearsal does this.
import type { Plan } from '../../domain/plan.ts';
import { blocking } from '../../domain/timeline.ts';
import type { Engine } from '../../runtime/engine.ts';
import type { ConsoleRoom } from './console-room.ts';
import type { RoleDirectory } from '../../ports.ts';

/** Hypercare checks a rehearsal runs, at the plan's compressed cadence, before it closes hypercare. */
export const HYPERCARE_CHECKS = 3;

/** A group in the plan (S…) is played by one synthetic member. */
const groupMember = (group: string) => `${group}-member`;

/** Roles exactly as the plan gives them: nobody, the rehearsal's own people included, holds more. */
export class RehearsalRoles implements RoleDirectory {
  async rolesOf(plan: Plan, user: string): Promise<string[]> {
    return Object.entries(plan.roles)
      .filter(([, members]) => members.some((m) => m === user || groupMember(m) === user))
      .map(([role]) => role);
  }
}

export interface Person {
  readonly user: string;
  readonly role: string;
}

/** Distinct people holding any of `roles`, in plan order. */
export function peopleFor(plan: Plan, roles: readonly string[]): Person[] {
  const seen = new Set<string>();
  const out: Person[] = [];
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

/** Who starts the rehearsal: the first person the plan lets start a cutover. */
export function rehearsalOperator(plan: Plan): Person | null {
  return peopleFor(plan, plan.approvals.start.roles)[0] ?? null;
}

/** The line that says who the rehearsal acts for; printed before the action, so it reads as the cause. */
export const onBehalf = (what: string, person: Person, why = 'nobody was asked') => `[rehearsal] ${what} on behalf of ${person.user} (${person.role}): ${why}`;

export function driveRehearsal(room: ConsoleRoom, engine: Engine, onStuck: (why: string) => void): void {
  let runningId: string | null = null;
  let hypercareSince: number | null = null;
  let hypercareChecks = 0;
  let closing = false;
  // A promotion refused for gates not yet clean (a wave left with no target, its train waiting for
  // /promote): tried again after the next check, as a person watching the card would.
  let promoteAfterCheck = false;
  room.on('entry', (entry, view) => {
    runningId = view.state.id;
    if (entry.type !== 'notice') return;
    const { state, plan } = view;
    const act = async (action: 'approve' | 'promote', roles: readonly string[], label: string) => {
      // A runbook checkpoint must be done first: the checkpoint_done notice brings us back.
      if (blocking(plan, state, action === 'approve' ? 'go_no_go' : 'promote') !== null) return;
      for (const person of peopleFor(plan, roles)) {
        room.line(onBehalf(label, person));
        const result = await engine.command(state.id, { type: action, by: person.user });
        if (!result.ok) {
          room.line(`[rehearsal] ${label} as ${person.user} was refused: ${result.refusal.code}`);
          if (result.refusal.code === 'checkpoint_blocking') return;
          if (result.refusal.code === 'gates_not_clean') {
            promoteAfterCheck = true;
            return;
          }
        }
        const current = result.state ?? (await engine.store.loadState(state.id));
        const waiting = action === 'approve' ? 'awaiting_go_no_go' : 'awaiting_promotion';
        if (!current || current.phase !== waiting) return;
      }
      onStuck(`the plan does not name enough distinct people with ${roles.join('/')} to ${label}; a real cutover would wait here`);
    };
    if (entry.notice.kind === 'go_no_go_requested') void act('approve', plan.approvals.go_no_go.roles, 'approving the go/no-go');
    if (entry.notice.kind === 'soak_clean' && entry.notice.next === 'promotion') void act('promote', plan.approvals.promote.roles, 'promoting');
    // A train whose wave lost every target waits for /promote to start the next wave (manual promotion).
    if (entry.notice.kind === 'target_dropped' && state.phase === 'awaiting_promotion') void act('promote', plan.approvals.promote.roles, 'promoting to the next wave');
    if (entry.notice.kind === 'gate_check' && promoteAfterCheck && state.phase === 'awaiting_promotion') {
      promoteAfterCheck = false;
      void act('promote', plan.approvals.promote.roles, 'promoting');
    }
    if (entry.notice.kind === 'checkpoint_opened') void tickAll(entry.notice.index);
    if (entry.notice.kind === 'checkpoint_done') {
      // The decision a checkpoint held back can be taken now.
      const blocked = plan.timeline[entry.notice.index]?.blocks;
      if (blocked === 'go_no_go' && state.phase === 'awaiting_go_no_go') void act('approve', plan.approvals.go_no_go.roles, 'approving the go/no-go');
      if (blocked === 'promote' && state.phase === 'awaiting_promotion') void act('promote', plan.approvals.promote.roles, 'promoting');
    }
    if (entry.notice.kind === 'signoff_requested') void signAll();
    if (entry.notice.kind === 'hypercare_started') hypercareSince = entry.at;
    // The last soak's check is announced with hypercare's start, at the same moment: only later ones are hypercare's.
    if (entry.notice.kind === 'gate_check' && hypercareSince !== null && entry.at > hypercareSince && ++hypercareChecks >= HYPERCARE_CHECKS) void closeHypercare();
  });

  const tickAll = async (index: number) => {
    const loaded = await engine.store.load(runningId ?? '');
    if (!loaded) return;
    const checkpoint = loaded.plan.timeline[index];
    const owner = checkpoint ? peopleFor(loaded.plan, [checkpoint.owner])[0] : undefined;
    if (!checkpoint || !owner) return;
    room.line(onBehalf(`ticking ${checkpoint.label} ${checkpoint.name} (${checkpoint.checklist.length} item${checkpoint.checklist.length === 1 ? '' : 's'})`, owner, 'nobody ticked anything'));
    for (let item = 0; item < checkpoint.checklist.length; item++) {
      const result = await engine.command(loaded.state.id, { type: 'tick', by: owner.user, checkpoint: index, item });
      if (!result.ok) {
        room.line(`[rehearsal] ticking ${checkpoint.label} item ${item + 1} as ${owner.user} was refused: ${result.refusal.code}`);
        return;
      }
    }
  };

  const signAll = async () => {
    const loaded = await engine.store.load(runningId ?? '');
    if (!loaded) return;
    for (const [item, signOff] of loaded.plan.signOff.entries()) {
      const person = peopleFor(loaded.plan, [signOff.role])[0];
      if (!person) continue;
      room.line(onBehalf(`signing off "${signOff.item}"`, person, 'nobody signed anything'));
      const result = await engine.command(loaded.state.id, { type: 'sign_off', by: person.user, item });
      if (!result.ok) room.line(`[rehearsal] the sign-off as ${person.user} was refused: ${result.refusal.code}`);
    }
  };

  const closeHypercare = async () => {
    if (closing) return;
    closing = true;
    const loaded = await engine.store.load(runningId ?? '');
    if (!loaded?.plan.hypercare || loaded.state.phase !== 'hypercare') return;
    const person = peopleFor(loaded.plan, loaded.plan.approvals.close.roles)[0];
    if (!person) return onStuck(`the plan names nobody with ${loaded.plan.approvals.close.roles.join('/')} to close hypercare; a real cutover would keep checking until hypercare.duration is over`);
    room.line(onBehalf(`closing hypercare after ${HYPERCARE_CHECKS} checks`, person, "a real hypercare keeps the gates running for the plan's whole hypercare.duration"));
    const result = await engine.command(loaded.state.id, { type: 'close', by: person.user, reason: `rehearsal: hypercare closed after ${HYPERCARE_CHECKS} checks` });
    if (!result.ok) room.line(`[rehearsal] closing hypercare as ${person.user} was refused: ${result.refusal.code}`);
  };
}
