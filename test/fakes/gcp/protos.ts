// Loads the Google API protos shipped inside the installed client packages, so the fake servers
// speak exactly the wire format the official clients were generated from.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** `<package>/build/src/index.js` → `<package>/build/protos`. */
function protosBeside(mainFile: string): string {
  return join(dirname(mainFile), '..', 'protos');
}

function resolveFrom(fromFile: string, pkg: string): string {
  return createRequire(fromFile).resolve(pkg);
}

export interface ProtoRoots {
  run: string;
  logging: string;
  monitoring: string;
  /** google/api, google/longrunning, google/rpc, google/protobuf, google/type… */
  gax: string;
}

export function protoRoots(): ProtoRoots {
  const runMain = require.resolve('@google-cloud/run');
  const loggingMain = require.resolve('@google-cloud/logging');
  // The generated logging client lives in its own package, a dependency of @google-cloud/logging.
  const loggingApiMain = resolveFrom(loggingMain, '@google-cloud/logging-api');
  const monitoringMain = require.resolve('@google-cloud/monitoring');
  // google-gax has an exports map: its main resolves, its package.json does not; go up from main.
  const gaxMain = resolveFrom(runMain, 'google-gax');
  return {
    run: protosBeside(runMain),
    logging: protosBeside(loggingApiMain),
    monitoring: protosBeside(monitoringMain),
    gax: protosBeside(gaxMain),
  };
}

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  oneofs: true,
  defaults: true,
};

export interface LoadedProtos {
  definition: protoLoader.PackageDefinition;
  grpcObject: grpc.GrpcObject;
}

/** Loads `files` (relative to the package's own root first, then the shared google-gax root). */
export function loadProtos(packageRoot: string, files: readonly string[]): LoadedProtos {
  const roots = protoRoots();
  const definition = protoLoader.loadSync([...files], {
    ...LOADER_OPTIONS,
    includeDirs: [packageRoot, roots.gax],
  });
  return { definition, grpcObject: grpc.loadPackageDefinition(definition) };
}

/** Walks `google.cloud.run.v2.Services` down a GrpcObject to the service constructor. */
export function serviceDefinition(grpcObject: grpc.GrpcObject, fullName: string): grpc.ServiceDefinition {
  let node: unknown = grpcObject;
  for (const part of fullName.split('.')) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  const service = (node as { service?: grpc.ServiceDefinition } | undefined)?.service;
  if (!service) throw new Error(`service ${fullName} is not in the loaded protos`);
  return service;
}

/**
 * Encodes a message with the serializer proto-loader generated for an RPC that returns it, e.g.
 * `encodeWith(def, 'google.cloud.run.v2.Services', 'GetService', svc)` → bytes of a Service.
 * Used to pack `google.protobuf.Any` values (the LRO response) from the same definitions.
 */
export function encodeWith(
  definition: protoLoader.PackageDefinition,
  serviceName: string,
  method: string,
  message: object,
): Buffer {
  const service = definition[serviceName] as Record<string, grpc.MethodDefinition<unknown, unknown>> | undefined;
  const rpc = service?.[method];
  if (!rpc) throw new Error(`${serviceName}/${method} is not in the loaded protos`);
  return rpc.responseSerialize(message);
}
