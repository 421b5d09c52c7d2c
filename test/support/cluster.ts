/**
 * Shared pieces of the suites that run a lab cluster: the loopback CIB (one Dummy `web` with a
 * 1 s monitor, fence_lab), an API call to one node, and polling until a condition holds.
 */
import { ApiClient } from '@paceline/controller';
import { labCib, type LabState } from '@paceline/lab';

export function webDummyCib(labDir: string): string {
  return labCib({
    labDir,
    nodes: ['node1', 'node2', 'node3'],
    stonith: true,
    resources: `      <primitive id="web" class="ocf" provider="paceline" type="Dummy">
        <operations><op id="web-monitor" name="monitor" interval="1s" timeout="20s"/></operations>
      </primitive>
`,
  });
}

/** One API request to `node` of the lab (a connection per call). */
export async function apiCall<T>(lab: LabState, node: string, method: string, params?: unknown): Promise<T> {
  const n = lab.nodes.find((x) => x.name === node)!;
  const c = await ApiClient.connect({ socket: n.apiSocket });
  try {
    return (await c.request(method as never, params as never)) as T;
  } finally {
    c.close();
  }
}

/** Polls `cond` every 100 ms until it holds, or throws after `ms`. */
export async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
