import { describe, expect, it } from 'vitest';
import { emptyTable, runIpvsadm, type RuleTable } from './index.js';

function run(lines: string[], start: RuleTable = emptyTable()): { table: RuleTable; last: ReturnType<typeof runIpvsadm> } {
  let table = start;
  let last = runIpvsadm(table, []);
  for (const l of lines) {
    last = runIpvsadm(table, l.split(' ').filter((w) => w !== ''));
    table = last.table;
  }
  return { table, last };
}

const SETUP = [
  '-A -t 10.0.0.1:80 -s wrr',
  '-a -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 3',
  '-a -t 10.0.0.1:80 -r 192.168.1.10 -g',
  '-A -u 10.0.0.1:53 -p',
  '-A -f 5 -s sh -b sh-port,sh-fallback -p 600 -M 255.255.255.0',
  '-a -f 5 -r 192.168.1.12:0 -i -x 100 -y 10',
];

describe('ipvsadm -L -n output', () => {
  it('prints the table exactly as ipvsadm 1.31 does, sorted, with DR ports forced to the service port', () => {
    // The layout users and scripts parse: header, title, %-33s service, %-28s dest columns.
    const { last } = run([...SETUP, '-L -n']);
    expect(last.stdout).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 wrr\n' +
        '  -> 192.168.1.10:80              Route   1      0          0         \n' +
        '  -> 192.168.1.11:8080            Masq    3      0          0         \n' +
        'UDP  10.0.0.1:53 wlc persistent 300\n' +
        'FWM  5 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n' +
        '  -> 192.168.1.12:0               Tunnel  1      0          0         \n',
    );
  });

  it('prints --stats and --rate columns, -t service listing and --thresholds', () => {
    // The counter layouts monitoring scripts scrape.
    const { table } = run(SETUP);
    expect(runIpvsadm(table, ['-L', '-n', '--stats', '-t', '10.0.0.1:80']).stdout).toBe(
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80                         0        0        0        0        0\n' +
        '  -> 192.168.1.10:80                     0        0        0        0        0\n' +
        '  -> 192.168.1.11:8080                   0        0        0        0        0\n',
    );
    expect(runIpvsadm(table, ['-Ln', '--rate', '-f', '5']).stdout).toBe(
      'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n' +
        '  -> RemoteAddress:Port\n' +
        'FWM  5                                   0        0        0        0        0\n' +
        '  -> 192.168.1.12:0                      0        0        0        0        0\n',
    );
    expect(runIpvsadm(table, ['-Ln', '--thresholds', '-f', '5']).stdout.split('\n')[2]).toBe('FWM  5 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0');
    expect(runIpvsadm(table, ['-Ln', '--thresholds', '-f', '5']).stdout.split('\n')[3]).toBe('  -> 192.168.1.12:0               100        10         0          0         ');
    expect(runIpvsadm(table, ['-L', '--timeout']).stdout).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
  });
});

describe('ipvsadm -S and -R', () => {
  it('saves in ipvsadm-save format and restores to the same table', () => {
    // ipvsadm-save | ipvsadm-restore is how operators move rules between directors.
    const { table } = run(SETUP);
    const saved = runIpvsadm(table, ['-S', '-n']).stdout;
    expect(saved).toBe(
      '-A -t 10.0.0.1:80 -s wrr\n' +
        '-a -t 10.0.0.1:80 -r 192.168.1.10:80 -g -w 1\n' +
        '-a -t 10.0.0.1:80 -r 192.168.1.11:8080 -m -w 3\n' +
        '-A -u 10.0.0.1:53 -s wlc -p 300\n' +
        '-A -f 5 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port\n' +
        '-a -f 5 -r 192.168.1.12:0 -i -w 1\n',
    );
    const restored = runIpvsadm(emptyTable(), ['-R'], { stdin: '# comment\n' + saved });
    expect(restored.exitCode).toBe(0);
    expect(runIpvsadm(restored.table, ['-S', '-n']).stdout).toBe(saved);
  });

  it('restores all or nothing, naming the failing line', () => {
    // A half-applied rule file on a director is worse than none.
    const r = runIpvsadm(emptyTable(), ['-R'], { stdin: '-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 5.6.7.8 -w 99999\n' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('line 2: illegal weight specified\n');
    expect(r.table.services).toHaveLength(0);
  });
});

describe('ipvsadm errors change nothing', () => {
  // Each row: commands run first, the bad command, its stderr and exit status (ipvsadm 1.31's).
  const rows: [string[], string, string, number][] = [
    [[], '-A -t 10.0.0.1:0 -s rr', 'Zero port specified for non-persistent service', 2],
    [['-A -t 10.0.0.1:80'], '-A -t 10.0.0.1:80', 'Service already exists', 255],
    [[], '-a -t 10.0.0.2:80 -r 1.2.3.4', 'Service not defined', 255],
    [['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.1.1.1'], '-a -t 10.0.0.1:80 -r 10.1.1.1:80', 'Destination already exists', 255],
    [['-A -t 10.0.0.1:80'], '-e -t 10.0.0.1:80 -r 10.1.1.1', 'No such destination', 255],
    [['-A -t 10.0.0.1:80'], '-d -t 10.0.0.1:80 -r 10.1.1.1', 'No such destination', 255],
    [[], '-D -t 10.0.0.1:80', 'No such service', 255],
    [[], '-E -t 10.0.0.1:80 -s rr', 'No such service', 255],
    [[], '-Z -t 10.0.0.1:80', 'No such service', 255],
    [[], '-A -t 10.0.0.9:80 -s foo', 'Scheduler or persistence engine not found', 255],
    [['-A -t 10.0.0.1:80'], '-a -t 10.0.0.1:80 -r 10.1.1.1 -x 5 -y 10', 'Numerical result out of range', 255],
    [['-A -t 10.0.0.1:80'], '-a -t 10.0.0.1:80 -r 224.0.0.1', 'Invalid operation.  Possibly wrong module version, address not unicast, ...', 255],
    [['-A -t 10.0.0.1:80'], '-a -t 10.0.0.1:80 -r 10.1.1.1 -w 65536', 'illegal weight specified', 2],
    [['-A -t 10.0.0.1:80'], '-a -t 10.0.0.1:80 -r 10.1.1.1 -x -1', 'illegal u_threshold specified', 2],
    [[], '-A -t 10.0.0.1:80 -p 0', "invalid timeout value `0' specified", 2],
    [[], '-A -f 0', "invalid fwmark value `0' specified", 2],
    [[], '-A -t 300.1.1.1:80', 'illegal virtual server address[:port] specified', 2],
    [[], '-A -t 10.0.0.1:http', 'illegal virtual server address[:port] specified', 2],
    [[], '-A -t 10.0.0.1:80 -M 255.255.x.0', 'illegal virtual server persistent mask specified', 2],
    [[], '-a -t 10.0.0.1:80 -r :80', 'illegal real server address[:port] specified', 2],
    [[], '-A -t 10.0.0.1:80 -b sh-port', "incompatible scheduler flag `sh-port'", 2],
    [[], '-A -t 10.0.0.1:80 -b bogus', "invalid scheduler flag `bogus'", 2],
    [[], '-t 10.0.0.1:80 -A', "Try `ipvsadm -h' or 'ipvsadm --help' for more information.", 255],
    [[], '-A --bogus', '--bogus: unknown option', 255],
    [[], '-A -t', '-t: missing argument', 255],
    [[], '-A -a -t 10.0.0.1:80', "invalid option `-a'", 2],
    [[], '-A -t 10.0.0.1:80 -w 2', "Illegal 'weight' option with the 'add-service' command", 2],
    [[], '-a -t 10.0.0.1:80', "You need to supply the 'real-server' option for the 'add-server' command", 2],
    [[], '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -g', "multiple 'forwarding-method' options specified", 2],
    [[], '-L -c -t 10.0.0.1:80', "The option 'service-address' conflicts with the 'connection' option in the 'list' command", 2],
    [[], '-L -c --stats', 'options conflicts in the list command', 2],
    [[], '-A -t 10.0.0.1:80 extra', 'unexpected argument extra', 2],
    [[], '--set 1 2', '--set option requires 3 timeout values', 2],
    [[], '-A -t 10.0.0.1:80 -o', 'One-Packet Scheduling is only for UDP virtual services', 2],
    [[], '-L -n -t 10.0.0.1:80', 'No such service', 1],
  ];
  it.each(rows)('after %j: ipvsadm %s', (before, bad, message, exitCode) => {
    const { table } = run(before);
    const r = runIpvsadm(table, bad.split(' '));
    expect(r.stderr).toBe(message + '\n');
    expect(r.exitCode).toBe(exitCode);
    expect(r.table).toBe(table);
  });
});

describe('ipvsadm semantics', () => {
  it('edits replace every field, like ipvsadm (an -E without -s resets the scheduler to wlc)', () => {
    // Operators are surprised by this; we must be surprising in the same way.
    const { last } = run(['-A -t 10.0.0.1:80 -s rr -p 60', '-E -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 5', '-e -t 10.0.0.1:80 -r 10.1.1.1', '-S -n']);
    expect(last.stdout).toBe('-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.1.1.1:80 -g -w 1\n');
  });

  it('accepts bundled short options, long options with =, inet_aton forms and --set with 0 meaning unchanged', () => {
    // Scripts in the wild use every spelling popt and inet_aton allow.
    const { table } = run(['--add-service --tcp-service=10.1:8080 --scheduler=lc -p', '-a -t 167772161:8080 -r 0x0a000002:81 -mw2', '--set 0 60 0']);
    expect(runIpvsadm(table, ['-Sn']).stdout).toBe('-A -t 10.0.0.1:8080 -s lc -p 300\n-a -t 10.0.0.1:8080 -r 10.0.0.2:81 -m -w 2\n');
    expect(runIpvsadm(table, ['-L', '--timeout']).stdout).toBe('Timeout (tcp tcpfin udp): 900 60 300\n');
  });

  it('takes -p with or without a timeout the way popt does (a following option is not a timeout)', () => {
    // `-p -s rr` and `-p 60` are both common in rule files.
    const { table } = run(['-A -t 10.0.0.1:80 -p -s rr', '-A -t 10.0.0.2:80 -p 60 -M 255.255.0.0', '-A -u 10.0.0.3:53 --persistent=900 -o', '-A -f 9 -s sh -b flag-3']);
    expect(runIpvsadm(table, ['-Sn']).stdout).toBe(
      '-A -t 10.0.0.1:80 -s rr -p 300\n' +
        '-A -t 10.0.0.2:80 -s wlc -p 60 -M 255.255.0.0\n' +
        '-A -u 10.0.0.3:53 -s wlc -p 900 -o\n' +
        '-A -f 9 -s sh -b flag-3\n',
    );
    expect(runIpvsadm(table, ['-Ln']).stdout.split('\n').slice(3)).toEqual([
      'TCP  10.0.0.1:80 rr persistent 300',
      'TCP  10.0.0.2:80 wlc persistent 60 mask 255.255.0.0',
      'UDP  10.0.0.3:53 wlc persistent 900 ops',
      'FWM  9 sh (flag-3)',
      '',
    ]);
  });

  it('deletes a real server by the port given, or the service port when none is given', () => {
    // -d does not force the service port the way -a -g does.
    const { table } = run(['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.1.1.1:8080 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -g']);
    expect(runIpvsadm(table, '-d -t 10.0.0.1:80 -r 10.1.1.1'.split(' ')).stderr).toBe('No such destination\n');
    const after = runIpvsadm(runIpvsadm(table, '-d -t 10.0.0.1:80 -r 10.1.1.1:8080'.split(' ')).table, '-d -t 10.0.0.1:80 -r 10.1.1.2'.split(' '));
    expect(after.exitCode).toBe(0);
    expect(runIpvsadm(after.table, ['-Sn']).stdout).toBe('-A -t 10.0.0.1:80 -s wlc\n');
  });

  it('prints large counters scaled, or exact with --exact', () => {
    // print_largenum's K/M/G steps are what dashboards see.
    const counters = {
      service: () => ({ conns: 123456789, inPkts: 99999999, outPkts: 1e9, inBytes: 1.5e11, outBytes: 2e14, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 }),
      dest: () => ({ activeConns: 0, inactConns: 0, persistConns: 0, stats: { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 } }),
    };
    const { table } = run(['-A -t 10.0.0.1:80']);
    const line = runIpvsadm(table, ['-Ln', '--stats'], { counters }).stdout.split('\n')[3];
    expect(line).toBe('TCP  10.0.0.1:80'.padEnd(33) + '  123456K 99999999    1000M     150G     200T');
    const exact = runIpvsadm(table, ['-Ln', '--stats', '--exact'], { counters }).stdout.split('\n')[3];
    expect(exact).toBe('TCP  10.0.0.1:80'.padEnd(33) + ' 123456789 99999999 1000000000 150000000000 200000000000000');
  });
});
