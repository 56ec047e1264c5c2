// Domain layer: a property computed on first read, for the parts of a dump most callers never look at.

/**
 * Makes `o[key]` an enumerable property computed on first read (then a plain value): the
 * mptcp_info / tcp_info of a dump are decoded only for the sockets a caller looks at.
 */
export function lazy<T extends object, K extends keyof T>(o: T, key: K, make: () => T[K]): void {
  const settle = (value: T[K]): void => void Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(o, key, {
    enumerable: true, configurable: true,
    get: () => {
      const value = make();
      settle(value);
      return value;
    },
    set: settle,
  });
}
