// Spelling rules for turning spec names (`rcv-add-addrs`, `if_idx`) into TypeScript and C identifiers.

import { SpecError } from './errors.js';

function words(name: string): string[] {
  return name.split(/[-_]+/).filter((w) => w !== '');
}

function capital(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function checked(ident: string, from: string, where: string): string {
  if (!IDENT.test(ident)) throw new SpecError(where, `name '${from}' does not give a valid identifier`);
  return ident;
}

/** `sub-established` → `subEstablished`. */
export function camel(name: string, where: string): string {
  const [first = '', ...rest] = words(name);
  return checked(first.toLowerCase() + rest.map(capital).join(''), name, where);
}

/** `event-attr` → `EventAttr`. */
export function pascal(name: string, where: string): string {
  return checked(words(name).map(capital).join(''), name, where);
}

/** `pm-addr-max` → `PM_ADDR_MAX`. */
export function screaming(name: string, where: string): string {
  return checked(words(name).join('_').toUpperCase(), name, where);
}

/** C spelling the kernel headers use: `mptcp-pm-addr-attr-` + `if-idx` → `MPTCP_PM_ADDR_ATTR_IF_IDX`. */
export function cName(text: string): string {
  return text.replace(/-/g, '_').toUpperCase();
}
