// The state of the fake Cloud Run API, in the protos' field names (snake_case).
import type * as grpc from '@grpc/grpc-js';

export type AllocationType = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' | 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';

export interface FakeTrafficTarget {
  type: AllocationType;
  /** Short revision name ('' for LATEST). */
  revision: string;
  percent: number;
  tag: string;
}

export interface FakeTrafficStatus extends FakeTrafficTarget {
  uri: string;
}

export interface FakeService {
  name: string;
  uid: string;
  description: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  template: Record<string, unknown>;
  traffic: FakeTrafficTarget[];
  traffic_statuses: FakeTrafficStatus[];
  generation: number;
  observed_generation: number;
  etag: string;
  reconciling: boolean;
  /** Full revision names. */
  latest_ready_revision: string;
  latest_created_revision: string;
  uri: string;
  /** Why the last reconciliation failed ('' when it did not): shown as a failed terminal condition. */
  failure: string;
}

export interface FakeRevision {
  name: string;
  /** Full name of the owning service. */
  service: string;
  ready: boolean;
  created: number;
}

export interface UpdateRecord {
  readonly at: number;
  readonly name: string;
  readonly etag: string;
  readonly traffic: readonly FakeTrafficTarget[];
  /** The gRPC status the update was answered with (0 = accepted). */
  readonly code: grpc.status;
}
