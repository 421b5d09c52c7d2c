import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES, API_METHOD_NAMES, checkParams, encodeReply, isSettled, parseRequestFrame, parseServerFrame, type StatusResult } from './protocol.js';

describe('parseRequestFrame', () => {
  // The server answers every bad frame with a code a client can act on; none may throw.
  it('accepts well-formed requests of every method', () => {
    expect(parseRequestFrame('{"id":1,"method":"status"}')).toEqual({ ok: true, request: { id: 1, method: 'status', params: undefined } });
    expect(parseRequestFrame('{"id":2,"method":"node.standby","params":{"node":"n1","on":true}}')).toMatchObject({ ok: true });
    expect(parseRequestFrame('{"id":3,"method":"subscribe","params":{"topics":["cib","log"]}}')).toMatchObject({ ok: true });
    expect(API_METHOD_NAMES).toContain('cib.update');
  });

  it.each([
    ['{"id":1,', null, 'bad-frame', /^not JSON: /],
    ['[1,2]', null, 'bad-request', /JSON object/],
    ['{"method":"status"}', null, 'bad-request', /id must be a non-negative integer/],
    ['{"id":-1,"method":"status"}', null, 'bad-request', /id must be/],
    ['{"id":"1","method":"status"}', null, 'bad-request', /id must be/],
    ['{"id":4,"method":""}', 4, 'bad-request', /method must be a non-empty string/],
    ['{"id":4,"method":"status","x":1}', 4, 'bad-request', /unknown field\(s\) x/],
    ['{"id":5,"method":"reboot"}', 5, 'unknown-method', /unknown method "reboot"; known: hello, subscribe/],
    ['{"id":5,"method":"__proto__"}', 5, 'unknown-method', /unknown method/],
    ['{"id":6,"method":"status","params":{"a":1}}', 6, 'bad-params', /status: takes no params/],
    ['{"id":7,"method":"cib.update","params":{}}', 7, 'bad-params', /param op is required/],
    ['{"id":7,"method":"cib.update","params":{"op":"drop"}}', 7, 'bad-params', /param op must be one of replace, modify, create, delete/],
    ['{"id":8,"method":"node.standby","params":{"node":"n1","on":"yes"}}', 8, 'bad-params', /param on must be a boolean/],
    ['{"id":9,"method":"resource.move","params":{"rsc":"r","nod":"n"}}', 9, 'bad-params', /unknown param nod/],
    ['{"id":10,"method":"subscribe","params":{"topics":[]}}', 10, 'bad-params', /non-empty array/],
    ['{"id":10,"method":"subscribe","params":{"topics":["cib","x"]}}', 10, 'bad-params', /unknown topic\(s\) "x"/],
    ['{"id":11,"method":"events.tail","params":[]}', 11, 'bad-params', /params must be an object/],
  ])('%s -> %s %s', (frame, id, code, message) => {
    const r = parseRequestFrame(frame);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.id).toBe(id);
    expect(r.error.code).toBe(code);
    expect(r.error.message).toMatch(message);
    expect(API_ERROR_CODES[r.error.code]).toBeTypeOf('string');
  });

  it('checks params of methods directly', () => {
    expect(checkParams('node.attribute', { node: 'n', name: 'a', lifetime: 'reboot' })).toBeUndefined();
    expect(checkParams('node.attribute', { node: 'n', name: 'a', lifetime: 'always' })).toMatch(/forever, reboot/);
    expect(checkParams('hello', {})).toBeUndefined();
  });
});

describe('parseServerFrame', () => {
  // A client must tell replies from events, and not trust malformed frames.
  it('parses replies and events, rejects the rest', () => {
    expect(parseServerFrame('{"id":1,"ok":true,"result":{"a":1}}')).toEqual({ kind: 'reply', reply: { id: 1, ok: true, result: { a: 1 } } });
    expect(parseServerFrame('{"id":null,"ok":false,"error":{"code":"bad-frame","message":"m"}}')).toMatchObject({ kind: 'reply', reply: { id: null, ok: false } });
    expect(parseServerFrame('{"event":"cib","data":{"v":1}}')).toEqual({ kind: 'event', event: { event: 'cib', data: { v: 1 } } });
    expect(parseServerFrame('{"event":"weather"}')).toMatchObject({ kind: 'invalid', reason: 'unknown event topic weather' });
    expect(parseServerFrame('{"id":1,"ok":false}')).toMatchObject({ kind: 'invalid' });
    expect(parseServerFrame('{"ok":true}')).toMatchObject({ kind: 'invalid', reason: 'reply without a valid id' });
    expect(parseServerFrame('nope')).toMatchObject({ kind: 'invalid' });
  });

  it('encodes unserialisable results as internal errors', () => {
    const cyc: Record<string, unknown> = {};
    cyc.c = cyc;
    expect(JSON.parse(encodeReply({ id: 3, ok: true, result: cyc }))).toMatchObject({ id: 3, ok: false, error: { code: 'internal' } });
    expect(JSON.parse(encodeReply({ id: 3, ok: true, result: 1 }))).toEqual({ id: 3, ok: true, result: 1 });
  });

  it('defines settled as a DC and an idle transition', () => {
    const s = { dc: 'n1', transition: { state: 'idle', id: 3 } } as StatusResult;
    expect(isSettled(s)).toBe(true);
    expect(isSettled({ ...s, dc: undefined })).toBe(false);
    expect(isSettled({ ...s, transition: { state: 'running', id: 4 } })).toBe(false);
  });
});
