// The `service:` block of a Cloud Run cutover: where the service lives and which two revisions
// share its traffic, checked against Cloud Run's naming rules with messages a release manager reads.
import { z } from 'zod';
import { projectId } from '../gates/gcp-common.ts';
import { unknownKeys } from '../gates/unknown-keys.ts';

const REGION = /^[a-z]+(?:-[a-z]+)+[0-9]+$/;
const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$/;
const REVISION_NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const revisionName = (side: 'stable' | 'canary') =>
  z.string({ error: `${side} must be a revision name, e.g. api-00042-xyz` }).superRefine((value, ctx) => {
    if (value.includes('/')) {
      ctx.addIssue({ code: 'custom', message: `${side} must be the short revision name (e.g. api-00042-xyz), not a resource path` });
    } else if (!REVISION_NAME.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `${side} "${value}" is not a Cloud Run revision name: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters`,
      });
    }
  });

export const cloudRunServiceSchema = z
  .strictObject(
    {
      platform: z.literal('cloud-run', { error: 'platform must be "cloud-run"' }),
      project: projectId('project is required: the Google Cloud project ID, e.g. openagentsgemini'),
      region: z
        .string({ error: 'region is required, e.g. us-central1' })
        .regex(REGION, 'region must be a Cloud Run region such as us-central1 or europe-west4'),
      name: z
        .string({ error: 'name is required: the Cloud Run service name' })
        .regex(
          SERVICE_NAME,
          'name must be a Cloud Run service name: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen, at most 49 characters',
        ),
      stable: revisionName('stable'),
      canary: revisionName('canary'),
    },
    { error: unknownKeys('a cloud-run service block', 'platform, project, region, name, stable, canary') },
  )
  .refine((s) => s.stable !== s.canary, { message: 'stable and canary must be different revisions', path: ['canary'] });

export type CloudRunService = z.infer<typeof cloudRunServiceSchema>;

export const serviceResource = (spec: Pick<CloudRunService, 'project' | 'region' | 'name'>): string =>
  `projects/${spec.project}/locations/${spec.region}/services/${spec.name}`;
