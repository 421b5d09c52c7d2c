// The offline CIB backend: commit replaces the file only when it still holds the version read.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cibVersionOfText, fileCibBackend } from '../../packages/cli/src/commands/crm-host.js';
import { historyPath, liveCommand, raCommand, runCrmShell, withCaret } from '../../packages/cli/src/commands/crm-shell.js';
import { PassThrough } from 'node:stream';
import { AgentCatalog, defaultAgentPaths } from '@paceline/executor';

const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cib = (epoch: number) => `<cib epoch="${epoch}" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.0"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status/></cib>\n`;

describe('file CIB backend', () => {
  // A concurrent writer between read and commit is a conflict: the file keeps the other change.
  it('refuses a commit based on an older version, and writes one based on the current', async () => {
    const file = join(dir, 'cib.xml');
    writeFileSync(file, cib(5));
    const be = fileCibBackend(file);
    const read = await be.read();
    writeFileSync(file, cib(6));
    const r = await be.replace(cib(7), cibVersionOfText(read));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.conflict).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(cib(6));
    const ok = await be.replace(cib(7), cibVersionOfText(await be.read()));
    expect(ok.ok).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(cib(7));
  });

  // History lives under $XDG_CONFIG_HOME, else ~/.config.
  it('keeps history under the XDG config directory', () => {
    expect(historyPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/paceline/history');
    expect(historyPath({ HOME: '/h' })).toBe('/h/.config/paceline/history');
  });

  // An error on the line just typed gets a caret under its column.
  it('puts a caret under the column of an error', () => {
    expect(withCaret('ERROR: line 1, column 5: bad', 'abc defg')).toBe('ERROR: line 1, column 5: bad\n  abc defg\n      ^');
    expect(withCaret('ERROR: other', 'x')).toBe('ERROR: other');
  });

  // Live levels go to the backend's runLive; configure and navigation stay in the shell.
  it('routes live-level commands to the backend seam', () => {
    expect(liveCommand('top', ['status'])).toEqual(['top', ['status']]);
    expect(liveCommand('top', ['resource', 'stop', 'vip'])).toEqual(['resource', ['stop', 'vip']]);
    expect(liveCommand('node', ['standby', 'node1'])).toEqual(['node', ['standby', 'node1']]);
    expect(liveCommand('node', ['up'])).toBeUndefined();
    expect(liveCommand('configure', ['show'])).toBeUndefined();
    expect(liveCommand('top', ['resource'])).toBeUndefined();
  });

  // The ra level works offline from the agent catalog (the repository's own agents).
  it('answers ra classes, list and info from the catalog', async () => {
    const cat = new AgentCatalog(defaultAgentPaths({}));
    expect((await raCommand(cat, ['classes'])).text).toContain('ocf');
    expect((await raCommand(cat, ['list', 'ocf', 'paceline'])).text).toMatch(/\bDummy\b/);
    const info = await raCommand(cat, ['info', 'ocf:paceline:Dummy']);
    expect(info.ok).toBe(true);
    expect(info.text).toMatch(/^ocf:paceline:Dummy - /);
    expect((await raCommand(cat, ['list', 'bogus'])).ok).toBe(false);
  });

  // A commit after someone else changed the file is refused; the edits stay, uncommitted.
  it('keeps the edits of a commit that conflicts', async () => {
    const file = join(dir, 'conflict.xml');
    writeFileSync(file, cib(5));
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const done = runCrmShell({ backend: fileCibBackend(file), input, output, historyFile: join(dir, 'history') });
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(file, cib(6));
    input.end('configure\nprimitive p1 ocf:pacemaker:Dummy\ncommit\nshow changed\nquit\nquit\n');
    expect(await done).toBe(0);
    expect(text).toContain('ERROR: commit: the CIB in');
    expect(text).toContain('changed since it was read');
    // show changed, after the refusal, still lists p1.
    expect(text.indexOf('primitive p1 ocf:pacemaker:Dummy', text.indexOf('your changes are kept'))).toBeGreaterThan(0);
    expect(text).toContain('There are uncommitted changes');
    expect(readFileSync(file, 'utf8')).toBe(cib(6));
  });
});

