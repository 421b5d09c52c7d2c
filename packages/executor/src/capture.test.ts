import { describe, expect, it } from 'vitest';
import { OutputCapture } from './capture.js';

describe('OutputCapture', () => {
  it('keeps the last charsMax characters across chunks and counts the rest', () => {
    // Bounded memory for a flooding agent, while keeping the end where its errors are.
    const c = new OutputCapture(10, false);
    for (const chunk of ['abcdef', 'ghijkl', 'mnop']) c.push(chunk);
    expect(c.text()).toBe('ghijklmnop');
    expect(c.truncatedChars()).toBe(6);
  });

  it('finds the last exit reason, even when split across chunks or dropped from the kept text', () => {
    // The exit reason must survive floods written after it.
    const c = new OutputCapture(20, true);
    c.push('ocf-exit-reason:old\nERROR: ocf-exit-rea');
    c.push('son:new reason  \n');
    c.push('y'.repeat(1000));
    expect(c.exitReason()).toBe('new reason');
    expect(c.text()).toBe('y'.repeat(20));
  });

  it('reads an exit reason on an unterminated last line, and ignores an empty one', () => {
    // Agents often exit right after printing, without a final newline.
    const c = new OutputCapture(100, true);
    c.push('ocf-exit-reason:real\nocf-exit-reason:');
    expect(c.exitReason()).toBe('real');
    const d = new OutputCapture(100, true);
    d.push('ocf-exit-reason:last');
    expect(d.exitReason()).toBe('last');
  });

  it('bounds a huge line without a newline', () => {
    // A line of megabytes must not be buffered whole for the reason scan.
    const c = new OutputCapture(10, true);
    c.push('ocf-exit-reason:' + 'z'.repeat(100_000));
    expect(c.exitReason()?.length).toBe(512);
  });
});
