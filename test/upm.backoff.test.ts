// Back-off bookkeeping of the path-manager framework: paths are counted per connection, and a closed
// connection's paths are forgotten without touching those of connections whose token shares its digits.

import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/upm/bookkeeping.js';

describe('Backoff', () => {
  it('forgets the paths of one connection only', () => {
    const b = new Backoff({}, () => 0);
    b.fail('7|192.0.2.1>198.51.100.1:80');
    b.fail('7|192.0.2.2>198.51.100.1:80');
    b.fail('77|192.0.2.1>198.51.100.1:80');
    b.fail('77|192.0.2.1>198.51.100.1:80');
    b.forget('7|');
    expect(b.failures('7|192.0.2.1>198.51.100.1:80')).toBe(0);
    expect(b.failures('7|192.0.2.2>198.51.100.1:80')).toBe(0);
    expect(b.failures('77|192.0.2.1>198.51.100.1:80')).toBe(2);
  });

  it('forgets by any other prefix too, and everything with an empty one', () => {
    const b = new Backoff({}, () => 0);
    b.fail('7|192.0.2.1>198.51.100.1:80');
    b.fail('77|192.0.2.1>198.51.100.1:80');
    b.fail('8|192.0.2.1>198.51.100.1:80');
    b.forget('7');
    expect(b.failures('7|192.0.2.1>198.51.100.1:80')).toBe(0);
    expect(b.failures('77|192.0.2.1>198.51.100.1:80')).toBe(0);
    expect(b.failures('8|192.0.2.1>198.51.100.1:80')).toBe(1);
    b.forget('');
    expect(b.failures('8|192.0.2.1>198.51.100.1:80')).toBe(0);
  });

  it('starts a path again after a success, and waits longer after each failure', () => {
    let now = 0;
    const b = new Backoff({ baseMs: 100 }, () => now);
    expect(b.fail('1|a>b:1')).toBe(1);
    expect(b.wait('1|a>b:1')).toBe(100);
    expect(b.fail('1|a>b:1')).toBe(2);
    now = 50;
    expect(b.wait('1|a>b:1')).toBe(150);
    b.succeed('1|a>b:1');
    expect(b.wait('1|a>b:1')).toBe(0);
    expect(b.failures('1|a>b:1')).toBe(0);
  });
});
