/**
 * Validates requests and responses against DigitalOcean's official OpenAPI description
 * (`../shared/specs/digitalocean/openapi.yaml`, a tag-filtered bundle; never copied into this
 * repository). The fake calls `checkRequest` on every request it receives and `checkResponse`
 * on every answer it sends, so a request our issuer sends that the spec rejects, or an answer
 * of the fake that a real client could not rely on, fails the test that caused it.
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable` is mapped onto `type: [..., 'null']`, examples and
 * vendor keywords are dropped, and the bundle's one defect (the `firewall` schema's `allOf`
 * holds a `null` where the filtered bundle lost the base model) is repaired by dropping the null.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { OpenApiSpec, specAbsence as absence, type Json } from '../openapi.js';

export type { Violations } from '../openapi.js';

/** The spec in the shared folder next to the repository (`<repo>/../shared/specs/...`). */
export const DIGITALOCEAN_SPEC_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..', '..', '..', '..', 'shared', 'specs', 'digitalocean', 'openapi.yaml',
);

/** Why requests and answers go unvalidated in this checkout (see `specAbsence` of openapi.ts). */
export const specAbsence = (file = DIGITALOCEAN_SPEC_PATH): string | undefined => absence('DigitalOcean', file);

/**
 * The filtered bundle lost the base of the `firewall` model (its `allOf` starts with `null`), so
 * firewall ids, names, status and `pending_changes` would go unchecked. This restores them as
 * upstream `specification/resources/firewalls/models/firewall.yml` describes them.
 */
function repairFirewallModel(doc: { [k: string]: Json }): void {
  const schemas = (doc.components as { [k: string]: { [k: string]: { [k: string]: Json } } }).schemas;
  const firewall = schemas?.firewall;
  if (!firewall || !Array.isArray(firewall.allOf)) return;
  firewall.allOf = [
    {
      type: 'object',
      properties: {
        id: { type: 'string' },
        status: { type: 'string', enum: ['waiting', 'succeeded', 'failed'] },
        created_at: { type: 'string', format: 'date-time' },
        pending_changes: {
          type: 'array',
          items: { type: 'object', properties: { droplet_id: { type: 'integer' }, removing: { type: 'boolean' }, status: { type: 'string' } } },
        },
        name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9\\.-]+$' },
        droplet_ids: { type: ['array', 'null'], items: { type: 'integer' } },
        tags: { type: ['array', 'null'], items: { type: 'string' } },
      },
    },
    ...firewall.allOf,
  ];
}

/** DigitalOcean's description, repaired, compiled for the fake. */
export class DigitalOceanSpec extends OpenApiSpec {
  constructor(file = DIGITALOCEAN_SPEC_PATH) {
    super(parse(readFileSync(file, 'utf8')) as { [k: string]: Json }, 'do.json', repairFirewallModel);
  }
}
