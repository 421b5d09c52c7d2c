import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDriverTimer, type DriverTimer } from './timer.js';

const built = existsSync(fileURLToPath(new URL('../../dist/paceline_timer.node', import.meta.url)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A timer and the times (ms since it was made) at which it fired. */
function recorder(prefer: 'native' | 'node'): { timer: DriverTimer; fired: number[]; t0: number } {
  const t0 = performance.now();
  const fired: number[] = [];
  const timer = createDriverTimer(() => fired.push(performance.now() - t0), prefer);
  return { timer, fired, t0 };
}

for (const prefer of ['native', 'node'] as const) {
  describe(`driver timer (${prefer})`, () => {
    it.skipIf(prefer === 'native' && !built && !process.env.CI)('is the implementation asked for (the native one is built by the package build)', () => {
      const { timer } = recorder(prefer);
      expect(timer.kind).toBe(prefer);
      timer.close();
    });

    it('fires once, not before its time', async () => {
      const { timer, fired } = recorder(prefer);
      timer.start(30);
      await sleep(80);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toBeGreaterThanOrEqual(29);
      timer.close();
    });

    it('moved later from an I/O callback, fires at the new time only', async () => {
      const { timer, fired, t0 } = recorder(prefer);
      timer.start(30);
      let movedAt = 0;
      // An I/O callback, where Node's own timers cannot move the thread's wake-up later.
      await readFile(fileURLToPath(import.meta.url)).then(() => {
        movedAt = performance.now() - t0;
        timer.start(90);
      });
      await sleep(160);
      expect(fired).toHaveLength(1);
      expect(fired[0]! - movedAt).toBeGreaterThanOrEqual(89);
      timer.close();
    });

    it('moved earlier, fires at the earlier time', async () => {
      const { timer, fired } = recorder(prefer);
      timer.start(500);
      timer.start(20);
      await sleep(100);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toBeLessThan(400);
      timer.close();
    });

    it('stopped, does not fire; started again, does', async () => {
      const { timer, fired } = recorder(prefer);
      timer.start(20);
      timer.stop();
      await sleep(60);
      expect(fired).toHaveLength(0);
      timer.start(10);
      await sleep(60);
      expect(fired).toHaveLength(1);
      timer.close();
      timer.close();
    });

    it('re-armed from its own callback, keeps ticking', async () => {
      let n = 0;
      const timer: DriverTimer = createDriverTimer(() => {
        n += 1;
        if (n < 3) timer.start(5);
      }, prefer);
      timer.start(5);
      await sleep(100);
      expect(n).toBe(3);
      timer.close();
    });
  });
}

// Node aborts a worker whose loop still holds a handle when it ends: a terminated worker (the
// messaging driver's thread) must take its armed native timer down with it. In a child process,
// so that the abort this guards against would fail the test, not the test runner.
describe.skipIf(!built && !process.env.CI)('native driver timer on a worker', () => {
  it('lets a worker with an armed timer be terminated', () => {
    const addon = fileURLToPath(new URL('../../dist/paceline_timer.node', import.meta.url));
    const code = `
      const { Worker } = require('node:worker_threads');
      const w = new Worker(\`
        const t = require(${JSON.stringify(addon)});
        const h = t.create(() => { require('node:worker_threads').parentPort.postMessage('fired'); t.start(h, 20); });
        t.start(h, 20);
      \`, { eval: true });
      let fired = 0;
      w.on('message', () => { if (++fired === 2) w.terminate(); });
      w.on('exit', () => { console.log('terminated after ' + fired); setTimeout(() => console.log('main alive'), 50); });
    `;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('terminated after 2\nmain alive\n');
  });
});
