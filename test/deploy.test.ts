// The files in deploy/: the Kubernetes DaemonSet and the systemd unit parsed and held to their
// promises (host network, NET_ADMIN only, read-only root), the Prometheus configuration and
// alerting rules checked and unit-tested by promtool, and their metric names the exporter's.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { promtool } from './helpers/promtool.js';
import { pmFamilies } from '../src/exporter/pm-source.js';
import { eventFamilies } from '../src/exporter/events-source.js';
import { connectionFamilies } from '../src/exporter/connections-source.js';
import { counterMetricName, parseMptcpExt } from '../src/exporter/netstat.js';

const DEPLOY = fileURLToPath(new URL('../deploy/', import.meta.url));
const read = (path: string): string => readFileSync(`${DEPLOY}${path}`, 'utf8');

function promtoolHere(...args: string[]): Promise<{ status: number; out: string }> {
  return promtool(args, { cwd: `${DEPLOY}prometheus` });
}

describe('Dockerfile', () => {
  const text = read('kubernetes/Dockerfile');
  const stages = text.split(/^FROM /m).slice(1).map((st) => `FROM ${st}`);
  const ROOT = fileURLToPath(new URL('../', import.meta.url));

  it('builds from the repository: a build stage packs it, the image installs that tarball, nothing from a release', () => {
    expect(stages).toHaveLength(2);
    expect(text).not.toMatch(/mptcp-pm@/);
    expect(stages[0]).toMatch(/^FROM node:\S+ AS build$/m);
    expect(stages[0]).toMatch(/^RUN npm ci\b/m);
    expect(stages[0]).toMatch(/^RUN npm run build && npm pack --pack-destination \/pkg$/m);
    expect(stages[1]).toMatch(/^COPY --from=build \/pkg \/pkg$/m);
    expect(stages[1]).toMatch(/^RUN npm install --global --omit=dev .*\/pkg\/mptcp-pm-\*\.tgz/m);
    expect(stages[1]).toMatch(/^ENTRYPOINT \["mptcp-pm"\]$/m);
  });

  it('copies every source the build reads and every file the package ships; the ignore file keeps build output out', () => {
    const copied = [...stages[0].matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    for (const src of copied) expect(existsSync(`${ROOT}${src}`), src).toBe(true);
    const tsconfig = JSON.parse(readFileSync(`${ROOT}tsconfig.json`, 'utf8')) as { include: string[] };
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { files: string[] };
    const needed = [...tsconfig.include, ...pkg.files.filter((f) => !f.startsWith('dist/') && !f.startsWith('!')), 'package.json', 'package-lock.json', 'tsconfig.json'];
    for (const f of needed) expect(copied, f).toContain(f);
    expect(read('../.dockerignore').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'dist']));
  });

  it('runs the exporter the DaemonSet expects on the port it scrapes', () => {
    const ds = parseAllDocuments(read('kubernetes/daemonset.yaml'))[0].toJS() as Record<string, any>;
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(stages[1])?.[1] ?? '[]') as string[];
    expect(cmd).toEqual(ds.spec.template.spec.containers[0].args.slice(0, 3));
  });
});

describe('Kubernetes DaemonSet', () => {
  const docs = parseAllDocuments(read('kubernetes/daemonset.yaml')).map((d) => d.toJS() as Record<string, any>);

  it('one exporter and one auto per node in the node network namespace, NET_ADMIN only, read-only root', () => {
    expect(docs).toHaveLength(1);
    const ds = docs[0];
    expect(ds.kind).toBe('DaemonSet');
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.containers.map((x: { name: string }) => x.name)).toEqual(['exporter', 'auto']);
    for (const x of pod.containers) {
      expect(x.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
      expect(x.securityContext.readOnlyRootFilesystem).toBe(true);
    }
    const c = pod.containers[0];
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.privileged).toBe(false);
    expect(c.args.slice(0, 3)).toEqual(['exporter', '--listen', ':9464']);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(ds.spec.template.metadata.annotations['prometheus.io/port']).toBe('9464');
    expect(c.volumeMounts ?? []).toEqual([]);
  });

  it('auto runs from the ConfigMap beside it, mounted as a directory so that updates reach it, and the policy in it is valid', async () => {
    const pod = docs[0].spec.template.spec;
    const auto = pod.containers[1];
    expect(auto.args).toEqual(['auto', '--config', '/etc/mptcp-pm/policy.yaml']);
    expect(auto.volumeMounts).toEqual([{ name: 'auto-policy', mountPath: '/etc/mptcp-pm', readOnly: true }]);
    const cm = parse(read('kubernetes/auto-configmap.yaml')) as Record<string, any>;
    expect(pod.volumes).toEqual([{ name: 'auto-policy', configMap: { name: cm.metadata.name } }]);
    expect(cm.metadata.namespace).toBe(docs[0].metadata.namespace);
    const { checkPolicy } = await import('../src/index.js');
    expect(() => checkPolicy(parse(cm.data['policy.yaml']))).not.toThrow();
  });
});

describe('systemd unit', () => {
  /** Sections of an INI-style unit file: key → values (keys may repeat). */
  function unit(text: string): Record<string, Record<string, string[]>> {
    const out: Record<string, Record<string, string[]>> = {};
    let section = '';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const s = /^\[(.+)\]$/.exec(line);
      if (s) {
        section = s[1];
        out[section] = {};
        continue;
      }
      const eq = line.indexOf('=');
      expect(eq, `"${line}" is a key=value line in [${section}]`).toBeGreaterThan(0);
      (out[section][line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
    }
    return out;
  }

  it('runs the exporter as a dynamic user with CAP_NET_ADMIN only, read-only system', () => {
    const u = unit(read('systemd/mptcp-pm-exporter.service'));
    expect(Object.keys(u)).toEqual(['Unit', 'Service', 'Install']);
    expect(u.Service.ExecStart[0]).toMatch(/\/mptcp-pm exporter --listen \S*:9464$/);
    expect(u.Service.AmbientCapabilities).toEqual(['CAP_NET_ADMIN']);
    expect(u.Service.CapabilityBoundingSet).toEqual(['CAP_NET_ADMIN']);
    for (const key of ['DynamicUser', 'NoNewPrivileges']) expect(u.Service[key]).toEqual(['yes']);
    expect(u.Service.ProtectSystem).toEqual(['strict']);
    expect(u.Service.RestrictAddressFamilies[0].split(' ')).toContain('AF_NETLINK');
    expect(u.Install.WantedBy).toEqual(['multi-user.target']);
  });
});

describe('Prometheus configuration and alerting rules', () => {
  it('promtool accepts the scrape configuration and the rules', async () => {
    const config = await promtoolHere('check', 'config', 'prometheus.yml');
    expect(config.out).toContain('SUCCESS');
    expect(config.out).not.toMatch(/WARNING|FAILED/);
    expect(config.status).toBe(0);
    const rules = await promtoolHere('check', 'rules', 'alerts.yml');
    expect(rules.out).toContain('SUCCESS: 2 rules found');
    expect(rules.status).toBe(0);
  });

  it('the alerts fire on the series they are meant for and not otherwise (promtool test rules)', async () => {
    const r = await promtoolHere('test', 'rules', 'alerts.test.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('promtool fails a rule file that is wrong (the check has teeth)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mptcppm-rules-'));
    try {
      writeFileSync(join(dir, 'bad.yml'), 'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: rate(mptcp_ext_x_total[5m]\n');
      const r = await promtoolHere('check', 'rules', join(dir, 'bad.yml'));
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/parse error|unclosed/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Kubernetes scrape job keeps the DaemonSet pods by their label and port name', () => {
    const job = (parse(read('prometheus/scrape-kubernetes.yml')) as { scrape_configs: Array<Record<string, any>> }).scrape_configs[0];
    const ds = parse(read('kubernetes/daemonset.yaml')) as Record<string, any>;
    const keep = job.relabel_configs.filter((r: { action?: string }) => r.action === 'keep');
    expect(keep.map((r: { regex: string }) => r.regex)).toEqual([ds.metadata.labels['app.kubernetes.io/name'], ds.spec.template.spec.containers[0].ports[0].name]);
    expect(job.kubernetes_sd_configs[0].namespaces.names).toEqual([ds.metadata.namespace]);
  });

  it('every metric the rules use is one the exporter serves', () => {
    const rules = parse(read('prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
    const used = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => r.expr.match(/\bmptcp_[a-z_]+\b/g) ?? [])));
    const served = new Set([
      ...pmFamilies([], { subflows: 0, addAddrAccepted: 0 }, 'kernel').map((f) => f.name),
      ...eventFamilies({ byType: new Map(), lost: 0, overrunsUnknown: 0 }).map((f) => f.name),
      ...connectionFamilies([], 'kernel').map((f) => f.name),
    ]);
    expect([...used].filter((m) => !served.has(m) && !m.startsWith('mptcp_ext_'))).toEqual([]);
    // The fallback selector matches counters this kernel has.
    const names = [...parseMptcpExt(readFileSync('/proc/net/netstat', 'utf8')).keys()].map(counterMetricName);
    expect(names.filter((n) => /^mptcp_ext_.*fallback.*_total$/.test(n)).length).toBeGreaterThan(2);
  });
});
