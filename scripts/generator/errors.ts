// Error raised by the spec reader: names the place in the spec (a dotted path) and what is wrong there.

export class SpecError extends Error {
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(where === '' ? detail : `${where}: ${detail}`);
    this.name = 'SpecError';
  }
}
