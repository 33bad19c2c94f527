// Operation names are chosen by clients, so as metric labels they are capped: the first
// MAX_NAMES distinct valid names keep their own series, later ones share "other", and unnamed
// operations share "anonymous".
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const MAX_NAMES = 200;

export const ANONYMOUS = "anonymous";
export const OTHER = "other";

export class OperationNames {
  private readonly seen = new Set<string>();

  constructor(private readonly max = MAX_NAMES) {}

  label(name: string | null | undefined): string {
    if (!name) return ANONYMOUS;
    if (!NAME.test(name) || name === ANONYMOUS || name === OTHER) return OTHER;
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(name);
    return name;
  }
}
