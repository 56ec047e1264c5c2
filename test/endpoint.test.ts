// Endpoint input checks: each rule refused before sending, with the field named.
import { describe, expect, it } from 'vitest';
import { checkEndpointSpec, endpointFromWire, flagsToBits } from '../src/mptcp/pm/endpoint.js';
import { ValidationError } from '../src/netlink/core/errors.js';

function refusal(input: unknown): ValidationError {
  try {
    checkEndpointSpec(input);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('checkEndpointSpec', () => {
  it('maps a full spec to wire attributes', () => {
    expect(checkEndpointSpec({ address: '192.0.2.2', id: 5, port: 8080, flags: ['signal', 'backup'] }).wire)
      .toEqual({ family: 2, addr4: 0xc0000202, id: 5, port: 8080, flags: 0x05 });
  });

  it.each([
    [{ address: '192.0.2.300' }, 'address', /IPv4 or IPv6/],
    [{ address: '192.0.2.2', id: 0 }, 'id', /1 to 255/],
    [{ address: '192.0.2.2', id: 256 }, 'id', /1 to 255/],
    [{ address: '192.0.2.2', id: 1.5 }, 'id', /integer/],
    [{ address: '192.0.2.2', port: 80 }, 'port', /only on a "signal" endpoint/],
    [{ address: '192.0.2.2', port: 80, flags: ['signal', 'subflow'] }, 'port', /without "subflow"/],
    [{ address: '192.0.2.2', port: 0, flags: ['signal'] }, 'port', /1 to 65535/],
    [{ address: '192.0.2.2', port: 65536, flags: ['signal'] }, 'port', /1 to 65535/],
    [{ address: '192.0.2.2', flags: ['signal', 'fullmesh'] }, 'flags', /cannot be combined/],
    [{ address: '192.0.2.2', flags: ['implicit'] }, 'flags', /kernel only/],
    [{ address: '192.0.2.2', flags: ['subflow', 'bakup'] }, 'flags[1]', /unknown flag "bakup"/],
    [{ address: '192.0.2.2', ifname: 'a/b' }, 'ifname', /interface name/],
    [{ address: '192.0.2.2', ifname: 'eth0', ifindex: 2 }, 'ifname', /either/],
    [{ address: '192.0.2.2', flag: ['subflow'] }, 'endpoint.flag', /not a known option/],
  ])('refuses %j on %s', (input, field, rule) => {
    const e = refusal(input);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(rule);
  });

  it('accepts flags 0 and laminar', () => {
    expect(flagsToBits('flags', [])).toBe(0);
    expect(flagsToBits('flags', ['laminar', 'subflow'])).toBe(0x22);
  });
});

describe('endpointFromWire', () => {
  it('keeps unknown flag bits and drops port 0', () => {
    const ep = endpointFromWire({ family: 10, addr6: Uint8Array.from(Buffer.from('20010db8000000000000000000000002', 'hex')), id: 7, port: 0, flags: 0x86, ifIdx: 3 }, 't');
    expect(ep).toEqual({ id: 7, address: '2001:db8::2', family: 'inet6', flags: ['subflow', 'backup'], unknownFlags: 0x80, ifindex: 3 });
  });
});
