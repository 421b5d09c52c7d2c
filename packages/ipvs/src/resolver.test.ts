import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyTable, fileResolver, runIpvsadm } from './index.js';

describe('fileResolver', () => {
  it('lets ipvsadm take host and service names and print them without -n', () => {
    // `ipvsadm -L` shows names (vip.example:http) and scripts write `-t www:http`.
    const dir = mkdtempSync(join(tmpdir(), 'ipvs-resolver-'));
    try {
      writeFileSync(join(dir, 'hosts'), '# comment\n10.0.0.1 vip.example vip\n10.1.1.1 web1\n');
      writeFileSync(join(dir, 'services'), 'http 80/tcp www # WorldWideWeb\nhttp 80/udp\ndomain 53/udp\n');
      const resolver = fileResolver(join(dir, 'hosts'), join(dir, 'services'));
      let t = emptyTable();
      for (const l of ['-A -t vip:www', '-a -t vip.example:http -r web1 -m', '-A -u vip:domain']) {
        const r = runIpvsadm(t, l.split(' '), { resolver });
        expect(r.stderr).toBe('');
        t = r.table;
      }
      expect(runIpvsadm(t, ['-L'], { resolver }).stdout.split('\n').slice(3).join('\n')).toBe(
        'TCP  vip.example:http wlc\n  -> web1:http                    Masq    1      0          0         \nUDP  vip.example:domain wlc\n',
      );
      expect(runIpvsadm(t, ['-S'], { resolver }).stdout).toBe('-A -t vip.example:http -s wlc\n-a -t vip.example:http -r web1:http -m -w 1\n-A -u vip.example:domain -s wlc\n');
      expect(runIpvsadm(t, ['-A', '-t', 'nohost:80'], { resolver }).stderr).toBe('illegal virtual server address[:port] specified\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
