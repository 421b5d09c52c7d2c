/**
 * The interactive crm shell through a real pseudo-terminal (tmux): prompts and levels, tab
 * completion of commands, agents, agent parameters (meta-data), ids and cluster options, error
 * positions with a caret, an unknown parameter caught as typed with a suggestion, commit to the CIB file, help, and the history file.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, repoRoot } from '../support/env.js';

const built = existsSync(join(repoRoot, 'packages/cli/dist/main.js'));
const why = built ? missing({ tools: ['tmux'] }) : 'not built; npm test builds it';

const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });

describe.skipIf(!!why)(`interactive crm shell in a terminal ${why ?? ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-tty-'));
  let session = `paceline-crm-${process.pid}-1`;
  const cib = join(dir, 'cib.xml');
  afterAll(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', session);
  const type = (text: string): void => void tmux('send-keys', '-t', session, '-l', text);
  const key = (...keys: string[]): void => void tmux('send-keys', '-t', session, ...keys);
  /** Waits until the screen matches (the shell answers asynchronously). */
  async function waitFor(re: RegExp, ms = 10_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const s = screen();
      if (re.test(s)) return s;
      if (Date.now() > end) throw new Error(`screen never matched ${re}:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('completes, reports errors by position, commits and keeps history', async () => {
    copyFileSync(join(repoRoot, 'cib-examples/floating-ip.xml'), cib);
    const cmd = `cd ${dir} && XDG_CONFIG_HOME=${dir}/config CIB_file=${cib} ${process.execPath} ${join(repoRoot, 'packages/cli/bin/paceline.js')} shell; echo SHELL-EXITED-$?; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', cmd);
    await waitFor(/paceline\(cib\.xml\)# $/m);

    // First word: the top level's commands and levels.
    type('conf');
    key('Tab');
    await waitFor(/# configure$/m);
    key('Enter');
    await waitFor(/paceline\(cib\.xml\)configure# $/m);

    // Agent names, then the agent's parameters from its meta-data.
    type('primitive web ocf:paceline:Dumm');
    key('Tab');
    await waitFor(/primitive web ocf:paceline:Dummy$/m);
    type(' params ');
    key('Tab');
    key('Tab');
    const params = await waitFor(/fake=/);
    expect(params).toMatch(/op_sleep=/);
    type('fake=1 op monitor interval=10s');
    key('Enter');

    // A syntax error names line and column, with a caret under the word.
    type('colocation c1 inf: web:Bogus vip');
    key('Enter');
    const err = await waitFor(/\^/);
    expect(err).toContain("ERROR: line 1, column 20: syntax in colocation: Invalid role 'Bogus' for 'web'");
    expect(err).toMatch(/\n {21}\^/);

    // A parameter the agent does not know is caught as it is typed, with the one meant; not added.
    type('primitive db ocf:paceline:Dummy params stat=1');
    key('Enter');
    const typo = await waitFor(/not added/);
    expect(typo).toContain('ERROR: db: parameter "stat" is not known (did you mean "state"?)');

    // Ids from the working CIB (web is not committed yet) and cluster options from the options table.
    type('show we');
    key('Tab');
    await waitFor(/# show web$/m);
    key('Enter');
    await waitFor(/op monitor interval=10s/);
    type('location l-web web 100: ');
    key('Tab');
    key('Tab');
    await waitFor(/location l-web web 100: \n(.*\n)?.*\balpha\s+beta\b/);
    key('C-u');
    type('property stonith-en');
    key('Tab');
    await waitFor(/# property stonith-enabled=$/m);
    type('false');
    key('Enter');
    type('commit');
    key('Enter');
    await waitFor(/# commit\n.*configure# $/m);
    expect(readFileSync(cib, 'utf8')).toContain('id="web-monitor-10s"');

    // help, cd to another level, quit.
    type('help modgroup');
    key('Enter');
    await waitFor(/modgroup: add a member to a group or remove one/);
    type('cd ..');
    key('Enter');
    type('cd ra');
    key('Enter');
    await waitFor(/paceline\(cib\.xml\)ra# $/m);
    type('info ocf:paceline:Dummy');
    key('Enter');
    await waitFor(/Parameters \(\*: required, \[\]: default\):/);
    type('quit');
    key('Enter');
    await waitFor(/SHELL-EXITED-0/);
    const history = readFileSync(join(dir, 'config/paceline/history'), 'utf8');
    expect(history).toContain('colocation c1 inf: web:Bogus vip\n');
    expect(history.trimEnd().split('\n').pop()).toBe('quit');
  }, 60_000);

  // `paceline configure` on a terminal starts at the configure level; quitting with uncommitted
  // changes asks for a second quit; $EDITOR gets the terminal for `edit`.
  it('starts in configure, edits through the editor, warns before dropping changes', async () => {
    tmux('kill-session', '-t', session);
    session = `paceline-crm-${process.pid}-2`;
    copyFileSync(join(repoRoot, 'cib-examples/floating-ip.xml'), cib);
    const editor = `sed -i s/interval=10s/interval=15s/`;
    const cmd = `cd ${dir} && EDITOR='${editor}' XDG_CONFIG_HOME=${dir}/config CIB_file=${cib} ${process.execPath} ${join(repoRoot, 'packages/cli/bin/paceline.js')} configure; echo SHELL-EXITED-$?; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', cmd);
    await waitFor(/paceline\(cib\.xml\)configure# $/m);
    type('primitive web ocf:paceline:Dummy op monitor interval=10s');
    key('Enter');
    type('edit web');
    key('Enter');
    type('show web');
    key('Enter');
    await waitFor(/op monitor interval=15s/);
    type('quit');
    key('Enter');
    await waitFor(/There are uncommitted changes/);
    type('quit');
    key('Enter');
    await waitFor(/SHELL-EXITED-0/);
    expect(readFileSync(cib, 'utf8')).not.toContain('id="web"');
  }, 60_000);
});
