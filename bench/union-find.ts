// The floor the identity stage is compared with: a plain in-memory union-find (path halving, union
// by size) over the identifier links of identifier_observations — the identifiers seen on one
// observation are linked. No blocklist, no guards, no stable ids, nothing written: what is left is
// the bare connected-components work a hand-written pipeline would do in Node. Links arrive as
// (observation id, identifier key) pairs ordered by observation, so they can be streamed.

export class UnionFind {
  private parent: Int32Array = new Int32Array(1024);
  private size: Int32Array = new Int32Array(1024);
  private readonly ids = new Map<string, number>();
  /** The identifier keys by node number. */
  readonly keys: string[] = [];

  /** The node of an identifier key (`type:value`), added when new. */
  node(key: string): number {
    let n = this.ids.get(key);
    if (n !== undefined) return n;
    n = this.keys.length;
    if (n === this.parent.length) {
      const parent = new Int32Array(n * 2);
      parent.set(this.parent);
      const size = new Int32Array(n * 2);
      size.set(this.size);
      this.parent = parent;
      this.size = size;
    }
    this.parent[n] = n;
    this.size[n] = 1;
    this.ids.set(key, n);
    this.keys.push(key);
    return n;
  }

  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }

  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size[ra] < this.size[rb]) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra] += this.size[rb];
  }

  get nodes(): number {
    return this.keys.length;
  }

  /** Number of connected components. */
  components(): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.parent[i] === i) n++;
    return n;
  }

  /** identifier key → the smallest key of its component (a canonical label, for comparisons). */
  labels(): Map<string, string> {
    const smallest = new Map<number, string>();
    for (let i = 0; i < this.keys.length; i++) {
      const root = this.find(i);
      const seen = smallest.get(root);
      if (seen === undefined || this.keys[i] < seen) smallest.set(root, this.keys[i]);
    }
    return new Map(this.keys.map((k, i) => [k, smallest.get(this.find(i))!]));
  }
}

/**
 * Feeds (observation, identifier) pairs ordered by observation: each identifier is linked to the
 * first identifier of its observation (a star links the observation's identifiers as all pairs would).
 */
export class LinkFeeder {
  readonly uf: UnionFind;
  private observation: string | undefined;
  private first = -1;
  links = 0;

  constructor(uf = new UnionFind()) {
    this.uf = uf;
  }

  add(observationId: string, identifierKey: string): void {
    const n = this.uf.node(identifierKey);
    this.links++;
    if (observationId !== this.observation) {
      this.observation = observationId;
      this.first = n;
      return;
    }
    this.uf.union(this.first, n);
  }
}

export const identifierKey = (type: string, value: string): string => `${type}:${value}`;
