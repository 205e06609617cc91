// What the war room is shown about a cutover: its state and the plan it runs. Templates render it.
import type { Plan } from './plan.ts';
import type { CutoverState } from './state.ts';

export interface CutoverView {
  readonly state: CutoverState;
  readonly plan: Plan;
}
