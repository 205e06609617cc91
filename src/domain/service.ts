// The service a cutover moves traffic on: its two revisions, the split it serves, its `service:` block.

/** The two revisions a cutover moves traffic between. */
export interface Revisions {
  readonly stable: string;
  readonly canary: string;
}

/** Percent of served traffic on each side; `other` is whatever a third revision still serves. */
export interface Split {
  readonly canary: number;
  readonly stable: number;
  readonly other: number;
}

/** The `service:` block every traffic platform shares; each platform adds its own keys. */
export interface ServiceBase {
  readonly platform: string;
  readonly name: string;
  readonly stable: string;
  readonly canary: string;
}

/**
 * What one target of a train was last found serving, verified on its own platform, or why it
 * could not be (a shift or rollback that failed there). `target` is its index in the plan's train.
 */
export interface TargetReport {
  readonly target: number;
  readonly at: number;
  readonly split: Split | null;
  readonly error?: string;
}

/** A revision someone may pick for a cutover: ready to serve, with the share it serves now. */
export interface RevisionChoice {
  readonly name: string;
  /** When it was created (ms), if the platform says. */
  readonly createdAt: number | null;
  /** Percent of traffic it serves now. */
  readonly percent: number;
}
