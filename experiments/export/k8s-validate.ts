// Every Kubernetes object umbra writes is checked against the API's OpenAPI
// schema (kubernetes-models) before it is written, so a malformed manifest is
// refused here rather than by the API server of a cluster.
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { InputError } from '../../util/errors.js';

type K8sObject = { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } & Record<string, unknown>;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Throws an InputError naming the object and the schema violation. */
export function validateK8sObject(obj: K8sObject): void {
  const label = `${String(obj.kind ?? '?')} ${String(obj.metadata?.name ?? '?')}`;
  const name = obj.metadata?.name;
  // the schema leaves names as plain strings; the API server wants DNS-1123 labels for Jobs and ConfigMaps
  if (typeof name !== 'string' || name.length > 63 || !DNS_1123_LABEL.test(name)) {
    throw new InputError(`metadata.name must be a DNS-1123 label (lowercase letters, digits, -; at most 63), got ${JSON.stringify(name)}`, label);
  }
  try {
    if (obj.apiVersion === 'batch/v1' && obj.kind === 'Job') new Job(obj as ConstructorParameters<typeof Job>[0]).validate();
    else if (obj.apiVersion === 'v1' && obj.kind === 'ConfigMap') new ConfigMap(obj as ConstructorParameters<typeof ConfigMap>[0]).validate();
    else throw new Error(`no schema here for apiVersion ${String(obj.apiVersion)} kind ${String(obj.kind)}`);
  } catch (err) {
    throw new InputError(`does not validate against the Kubernetes schema: ${(err as Error).message}`, label);
  }
}
