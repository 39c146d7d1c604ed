/**
 * The customize answer: which related objects Metacontroller delivers with each sync. Depends on
 * the RoutedIP's spec only, because Metacontroller caches it per (uid, generation).
 */
import type { RelatedResourceRule } from '../schemas/metacontroller.js';
import { API_VERSION, ISSUER_SECRET_LABEL } from '../schemas/routed-ip.js';
import { readRoutedIPSpec, type DeliveredRoutedIP } from '../schemas/delivered.js';

/**
 * Related rules for `parent`:
 * - its RoutedIPIssuer by name, and the Secrets of its namespace labelled `routedip.io/issuer`
 *   (the Secret's name lives in the issuer, which customize cannot see); with
 *   `issuerRef.kind: ClusterRoutedIPIssuer`, that cluster-scoped issuer by name and the labelled
 *   Secrets of the operator's namespace instead (never its own namespace's: a cluster issuer's
 *   credentials come from the administrator, not from the RoutedIP's namespace);
 * - the Service by name and its EndpointSlices by `kubernetes.io/service-name`, and the Pods of
 *   the namespace (narrowed to the Service's selector at sync: customize cannot read the
 *   Service), whose hostNetwork / hostPort give the node-facing ports;
 * - Nodes matching `spec.nodeSelector` (all Nodes without one);
 * - every RoutedIP, so sharing a firewall or spreading over nodes takes the others into account.
 * A spec that violates the schema is read for its valid fields only: the sync that follows
 * reports it (InvalidSpec), and customize must answer all the same.
 */
export function relatedResources(parent: DeliveredRoutedIP, operatorNamespace: string): RelatedResourceRule[] {
  const namespace = parent.metadata.namespace ?? 'default';
  const spec = readRoutedIPSpec(parent.spec).validParts;
  const rules: RelatedResourceRule[] = [];
  const cluster = spec?.issuerRef?.kind === 'ClusterRoutedIPIssuer';
  if (spec?.issuerRef?.name) {
    rules.push(
      cluster
        ? { apiVersion: API_VERSION, resource: 'clusterroutedipissuers', names: [spec.issuerRef.name] }
        : { apiVersion: API_VERSION, resource: 'routedipissuers', namespace, names: [spec.issuerRef.name] },
    );
  }
  const secretsNamespace = cluster ? operatorNamespace : namespace;
  rules.push({ apiVersion: 'v1', resource: 'secrets', namespace: secretsNamespace, labelSelector: { matchExpressions: [{ key: ISSUER_SECRET_LABEL, operator: 'Exists' }] } });
  if (spec?.serviceRef?.name) {
    rules.push({ apiVersion: 'v1', resource: 'services', namespace, names: [spec.serviceRef.name] });
    rules.push({ apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices', namespace, labelSelector: { matchLabels: { 'kubernetes.io/service-name': spec.serviceRef.name } } });
    if (spec.ports === undefined) rules.push({ apiVersion: 'v1', resource: 'pods', namespace });
  }
  const selector = spec?.nodeSelector;
  const hasSelector = Boolean(selector && (Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0));
  rules.push(hasSelector && selector ? { apiVersion: 'v1', resource: 'nodes', labelSelector: selector } : { apiVersion: 'v1', resource: 'nodes' });
  rules.push({ apiVersion: API_VERSION, resource: 'routedips' });
  return rules;
}
