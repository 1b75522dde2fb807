import { RfbEncodingFilter } from './rfb-encodings';

const setEncodings = (list: number[]) => {
  const b = Buffer.alloc(4 + 4 * list.length);
  b[0] = 2;
  b.writeUInt16BE(list.length, 2);
  list.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
  return b;
};
const encodingsOf = (b: Buffer, at: number) => Array.from({ length: b.readUInt16BE(at + 2) }, (_, i) => b.readInt32BE(at + 4 + 4 * i));

test('a 3.8 viewer: ZRLE (16) and pseudo-encodings other than DesktopSize do not reach AMT; other messages pass byte for byte', () => {
  const f = new RfbEncodingFilter();
  const pixelFormat = Buffer.from([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
  const update = Buffer.from([3, 0, 0, 0, 0, 0, 2, 128, 1, 144]);
  const key = Buffer.from([4, 1, 0, 0, 0, 0, 0xff, 0x54]);
  const stream = Buffer.concat([Buffer.from('RFB 003.008\n'), Buffer.from([1]), Buffer.from([1]), pixelFormat, setEncodings([7, 16, 1, 0, -223, -239, -313]), update, key]);
  // In pieces, as a socket may cut it.
  const out = Buffer.concat([f.push(stream.subarray(0, 5)), f.push(stream.subarray(5, 40)), f.push(stream.subarray(40))]);
  const at = 12 + 1 + 1 + 20;
  expect(out.subarray(0, at)).toEqual(stream.subarray(0, at));
  expect(encodingsOf(out, at)).toEqual([1, 0, -223]);
  expect(out.subarray(at + 4 + 12)).toEqual(Buffer.concat([update, key]));
  expect(f.asked).toEqual([7, 16, 1, 0, -223, -239, -313]);
});

test('a 3.3 viewer (no security byte) without Raw gets Raw added; an unknown message type ends the filtering, nothing is lost', () => {
  const f = new RfbEncodingFilter();
  const odd = Buffer.from([150, 1, 2, 3]);
  const out = f.push(Buffer.concat([Buffer.from('RFB 003.003\n'), Buffer.from([1]), setEncodings([16]), odd, setEncodings([16])]));
  expect(encodingsOf(out, 13)).toEqual([0]);
  expect(out.subarray(13 + 8)).toEqual(Buffer.concat([odd, setEncodings([16])]));
});
