/**
 * Decoding the EC2 query protocol's flattened form parameters: lists are `Name.N` (1-based),
 * structures are dotted (`IpPermissions.1.IpRanges.2.CidrIp`).
 */

/** A fault answered with the EC2 error envelope. */
export class Ec2Fault extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

/** One request's parameters. */
export class QueryParams {
  constructor(private readonly params: ReadonlyMap<string, string>) {}

  /** Parses an `application/x-www-form-urlencoded` body. */
  static parse(body: string): QueryParams {
    return new QueryParams(new Map(new URLSearchParams(body)));
  }

  /** Every key, for request logs. */
  keys(): string[] {
    return [...this.params.keys()];
  }

  get(name: string): string | undefined {
    return this.params.get(name);
  }

  /** A required scalar; `MissingParameter` when absent. */
  required(name: string): string {
    const v = this.params.get(name);
    if (v === undefined || v === '') throw new Ec2Fault('MissingParameter', `The request must contain the parameter ${name}`);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.params.get(name);
    return v === undefined ? undefined : v === 'true';
  }

  int(name: string): number | undefined {
    const v = this.params.get(name);
    return v === undefined ? undefined : Number(v);
  }

  /** The scalar list `name.1`, `name.2`, … */
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 1; this.params.has(`${name}.${i}`); i++) out.push(this.params.get(`${name}.${i}`) as string);
    return out;
  }

  /** The structure list `name.1.*`, `name.2.*`, … each as its own QueryParams. */
  structs(name: string): QueryParams[] {
    const out: QueryParams[] = [];
    for (let i = 1; ; i++) {
      const prefix = `${name}.${i}.`;
      const sub = new Map<string, string>();
      for (const [k, v] of this.params) if (k.startsWith(prefix)) sub.set(k.slice(prefix.length), v);
      if (sub.size === 0) return out;
      out.push(new QueryParams(sub));
    }
  }

  /** `Filter.N.Name` / `Filter.N.Value.M` as name → values. */
  filters(): Map<string, string[]> {
    return new Map(this.structs('Filter').map((f) => [f.required('Name'), f.list('Value')]));
  }

  /** `TagSpecification.N` of `resourceType`, flattened to key → value. */
  tags(resourceType: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const spec of this.structs('TagSpecification')) {
      if (spec.get('ResourceType') !== resourceType) continue;
      for (const t of spec.structs('Tag')) out[t.required('Key')] = t.get('Value') ?? '';
    }
    return out;
  }
}
