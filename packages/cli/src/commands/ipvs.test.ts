import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ipvsadmCommand, registerIpvsCommands } from './ipvs.js';

function sink(): { stream: Writable; text: () => string } {
  let buf = '';
  return { stream: new Writable({ write(chunk, _enc, cb) { buf += String(chunk); cb(); } }), text: () => buf };
}

describe.skipIf(existsSync('/proc/net/ip_vs'))('paceline ipvsadm without a director (host without IPVS)', () => {
  it('answers like ipvsadm on a host without IPVS when no director runs in the state dir', async () => {
    // Users on containers must learn that they need `paceline director start`, in ipvsadm's words.
    const out = sink();
    const err = sink();
    const code = await ipvsadmCommand(['--state-dir', '/nonexistent/paceline-director', '-Ln'], out.stream, err.stream, async () => '');
    expect(code).toBe(2);
    expect(out.text()).toBe('');
    expect(err.text()).toBe("Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n");
  });

  it.each([['--version'], ['-v']])('answers %s with an ipvsadm-style line naming paceline, with no director running', async (flag) => {
    // The ipvs resource agent (and scripts) detect an ipvsadm by a first line "ipvsadm v..."; it must work before the director starts.
    const out = sink();
    const err = sink();
    const code = await ipvsadmCommand(['--state-dir', '/nonexistent/paceline-director', flag], out.stream, err.stream, async () => '');
    expect(code).toBe(0);
    expect(err.text()).toBe('');
    expect(out.text()).toMatch(/^ipvsadm v1\.31 .*paceline userspace director.*\n$/);
  });
});

describe('registerIpvsCommands', () => {
  it('registers ipvsadm and director subcommands that take ipvsadm options verbatim', () => {
    // The lead wires registerIpvsCommands into the program; options like -A must reach ipvsadm untouched.
    const program = new Command('paceline').enablePositionalOptions();
    registerIpvsCommands(program);
    const ipvsadm = program.commands.find((c) => c.name() === 'ipvsadm')!;
    const director = program.commands.find((c) => c.name() === 'director')!;
    expect(director.commands.map((c) => c.name()).sort()).toEqual(['run', 'start', 'status', 'stop']);
    let seen: string[] = [];
    ipvsadm.action((args: string[]) => { seen = args; });
    program.parse(['ipvsadm', '-A', '-t', '10.0.0.1:80', '-s', 'rr', '-p', '--help'], { from: 'user' });
    expect(seen).toEqual(['-A', '-t', '10.0.0.1:80', '-s', 'rr', '-p', '--help']);
  });
});
