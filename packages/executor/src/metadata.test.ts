import { describe, expect, it } from 'vitest';
import { lsbMetadata, parseAgentMetadata } from './metadata.js';

const OCF_XML = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Web" version="2.0">
  <version>1.1</version>
  <longdesc lang="de">Ein Webserver</longdesc>
  <longdesc lang="en">A web server
   on two lines</longdesc>
  <shortdesc lang="en">Web server</shortdesc>
  <parameters>
    <parameter name="config" required="1" unique-group="cfg" reloadable="0">
      <longdesc lang="en">Config file</longdesc>
      <shortdesc lang="en">config</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="port" unique="1" reloadable="1">
      <shortdesc lang="en">port</shortdesc>
      <content type="integer" default="80"/>
    </parameter>
    <parameter name="mode">
      <deprecated><replaced-with name="style"/></deprecated>
      <content type="select" default="fast"><option value="fast"/><option value="safe"/></content>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="40s"/>
    <action name="monitor" timeout="20" interval="10s" depth="10" role="Promoted"/>
    <action name="monitor" timeout="PT30S" interval="1min" start-delay="5s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
</resource-agent>`;

describe('parseAgentMetadata', () => {
  it('reads parameters and actions of an OCF 1.1 agent', () => {
    // The shell's completion, validation and default op timeouts all come from this.
    const r = parseAgentMetadata(OCF_XML);
    if (!r.ok) throw new Error(r.message);
    const m = r.metadata;
    expect(m).toMatchObject({ name: 'Web', version: '2.0', ocfVersion: '1.1', shortdesc: 'Web server' });
    expect(m.longdesc).toMatch(/^A web server\s+on two lines$/);
    expect(m.parameters).toEqual([
      { name: 'config', required: true, unique: true, uniqueGroup: 'cfg', reloadable: false, deprecated: false, type: 'string', shortdesc: 'config', longdesc: 'Config file' },
      { name: 'port', required: false, unique: true, reloadable: true, deprecated: false, type: 'integer', default: '80', shortdesc: 'port', longdesc: '' },
      { name: 'mode', required: false, unique: false, reloadable: false, deprecated: true, type: 'select', default: 'fast', options: ['fast', 'safe'], shortdesc: '', longdesc: '' },
    ]);
    expect(m.actions).toEqual([
      { name: 'start', timeoutMs: 40_000 },
      { name: 'monitor', timeoutMs: 20_000, intervalMs: 10_000, depth: 10, role: 'Promoted' },
      { name: 'monitor', timeoutMs: 30_000, intervalMs: 60_000, startDelayMs: 5000 },
      { name: 'meta-data', timeoutMs: 5000 },
    ]);
  });

  it('reads a fence agent, whose shortdesc is an attribute', () => {
    // fence-agents' meta-data differs from OCF's in small ways; discovery must read both.
    const xml = `<?xml version="1.0" ?>
<resource-agent name="fence_x" shortdesc="Fence agent for X" >
<longdesc>Long</longdesc>
<parameters>
	<parameter name="action" unique="0" required="1">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot"  />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
</parameters>
<actions><action name="on" automatic="0"/><action name="monitor" /></actions>
</resource-agent>`;
    const r = parseAgentMetadata(xml);
    if (!r.ok) throw new Error(r.message);
    expect(r.metadata.shortdesc).toBe('Fence agent for X');
    expect(r.metadata.parameters[0]).toMatchObject({ name: 'action', required: true, unique: false, default: 'reboot', shortdesc: 'Fencing action' });
    expect(r.metadata.actions.map((a) => a.name)).toEqual(['on', 'monitor']);
  });

  it('returns errors as values for broken or foreign XML', () => {
    // An agent that prints garbage for meta-data must not crash discovery.
    expect(parseAgentMetadata('usage: x')).toMatchObject({ ok: false, code: 'metadata-syntax' });
    expect(parseAgentMetadata('<resource-agent><x></resource-agent>')).toMatchObject({ ok: false, code: 'metadata-syntax' });
    expect(parseAgentMetadata('<html/>')).toMatchObject({ ok: false, code: 'metadata-shape' });
  });
});

describe('lsbMetadata', () => {
  it('makes meta-data from the INIT INFO header', () => {
    // Init scripts have no meta-data action; Pacemaker builds it from the header the same way.
    const script = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          tinyd
# Required-Start:    $network
# Short-Description: A tiny daemon
# Description:       Serves nothing,
#                    very reliably.
### END INIT INFO
`;
    const m = lsbMetadata('tinyd', script);
    expect(m.shortdesc).toBe('A tiny daemon');
    expect(m.longdesc).toBe('Serves nothing, very reliably.');
    expect(m.actions.find((a) => a.name === 'status')?.timeoutMs).toBe(15_000);
  });
});
