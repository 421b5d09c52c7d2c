/**
 * The scheduler's thread: a CIB (XML) and a time in, a TransitionPlan out. Running it here keeps
 * a long scheduler run from delaying the controller's event loop (the messaging layer has a
 * thread of its own anyway).
 */
import { parentPort } from 'node:worker_threads';
import { parseCib } from '@paceline/cib';
import { planTransition, schedule } from '@paceline/scheduler';

parentPort?.on('message', (m: { token: number; cibXml: string; nowSec: number }) => {
  try {
    const cib = parseCib(m.cibXml);
    const result = schedule(cib, { nowSec: m.nowSec });
    parentPort?.postMessage({ token: m.token, plan: planTransition(cib, result) });
  } catch (e) {
    parentPort?.postMessage({ token: m.token, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
  }
});
