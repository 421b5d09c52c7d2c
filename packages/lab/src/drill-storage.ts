/**
 * Shared storage for the drills' lab nodes: an ext4 filesystem in an image file in the lab
 * directory, attached to a loop device. Every node reaches the same /dev/loopN (the lab shares
 * the machine's /dev); each node runs in a mount namespace of its own (`ip netns exec`), so the
 * ocf:paceline:Filesystem resource mounts the device on the same path in the node that holds it
 * and nowhere else: the host and the other nodes see the empty mount point. This is the
 * Filesystem agent's ordinary block-device case (ext4, e2fsck -p before the mount), as with a
 * SAN LUN. Needs root, losetup, mkfs.ext4 and a free loop device.
 *
 * The files the filesystem starts with come from a directory (mkfs.ext4 -d), so the host never
 * mounts it. While a node holds it, `inNodeMount` reaches it through /proc/PID/root of the node's
 * main process (the node's view of the file tree).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodePid, type LabState } from './lab.js';
import { run } from './netns.js';

export interface SharedDisk {
  /** The loop device (/dev/loopN). */
  readonly device: string;
  /** The image file behind it. */
  readonly image: string;
  /** Where the nodes mount it (an empty directory on the host). */
  readonly mountPoint: string;
  /** Detaches the loop device (the kernel frees it once no mount uses it). Idempotent. */
  release(): void;
}

/**
 * Makes `dir/shared/disk.img` (sizeMb, ext4 labelled `label`, populated from `content`, a
 * directory), attaches it to a free loop device and makes the empty mount point
 * `dir/shared/mnt`. Throws naming the failing command.
 */
export function makeSharedDisk(dir: string, opts: { content: string; sizeMb?: number; label?: string }): SharedDisk {
  const base = join(dir, 'shared');
  const image = join(base, 'disk.img');
  const mountPoint = join(base, 'mnt');
  mkdirSync(mountPoint, { recursive: true });
  const step = (argv: string[]): string => {
    const r = run(argv);
    if (r.status !== 0) throw new Error(`shared storage: ${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  step(['truncate', '-s', `${opts.sizeMb ?? 64}M`, image]);
  // No lazy init: the filesystem is complete when mkfs returns, so no kernel thread writes to it
  // later from the first mounting node.
  step(['mkfs.ext4', '-q', '-F', '-L', opts.label ?? 'drill', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-d', opts.content, image]);
  const device = step(['losetup', '--find', '--show', image]).trim();
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`shared storage: losetup answered '${device}', not a loop device`);
  let released = false;
  return {
    device,
    image,
    mountPoint,
    release() {
      if (released) return;
      released = true;
      spawnSync('losetup', ['-d', device], { stdio: 'ignore' });
    },
  };
}

/** `path` (absolute) as a node sees it: through /proc/PID/root of its main process; undefined when it is off. */
export function inNodeMount(lab: LabState, node: string, path: string): string | undefined {
  const n = lab.nodes.find((x) => x.name === node);
  const pid = n === undefined ? undefined : nodePid(n);
  return pid === undefined ? undefined : `/proc/${pid}/root${path}`;
}
