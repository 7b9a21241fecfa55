import { expect, test } from 'vitest';
import { ExecOutput } from './exec-output.ts';

/** One multiplexed frame: stream 1 is stdout, 2 is stderr. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('frames split anywhere, even inside a header, come out whole and in order', () => {
  const stream = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'done')]);
  for (let size = 1; size <= stream.length; size++) {
    const output = new ExecOutput();
    for (let at = 0; at < stream.length; at += size) output.push(stream.subarray(at, at + size));
    expect(output.text()).toBe('out\nerr\ndone');
  }
});

test('keeps only the last bytes, without a broken character at the cut', () => {
  const output = new ExecOutput(8);
  output.push(frame(1, 'abcdefgh'));
  output.push(frame(2, 'ijk'));
  expect(output.text()).toBe('defghijk');

  const accented = new ExecOutput(5);
  accented.push(frame(1, 'xxéééé')); // each é is two bytes; the last five bytes start mid-character
  expect(accented.text()).toBe('éé');
});
