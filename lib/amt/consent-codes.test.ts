import { ConsentCodes } from './consent-codes';

describe('ConsentCodes', () => {
  it('hands a code to the request of the device named, or to the only one waiting', async () => {
    const codes = new ConsentCodes();
    const a = codes.wait('pc-a');
    expect(codes.give(undefined, '123456')).toBe('pc-a');
    await expect(a).resolves.toBe('123456');

    const b = codes.wait('pc-b');
    const c = codes.wait('pc-c');
    expect(() => codes.give(undefined, '1')).toThrow(/several devices wait for a consent code: say which one in msg.device/);
    expect(codes.give('pc-c', '222222')).toBe('pc-c');
    await expect(c).resolves.toBe('222222');
    expect(() => codes.give('pc-c', '3')).toThrow(/nothing is waiting for a user consent code from pc-c/);
    codes.forget('pc-b');
    expect(codes.isWaiting('pc-b')).toBe(false);
    expect(() => codes.give(undefined, '4')).toThrow(/nothing is waiting for a user consent code$/);
    void b;
  });

  it('a second request for the same device replaces the first, which ends with an error', async () => {
    const codes = new ConsentCodes();
    const first = codes.wait('pc-a');
    const second = codes.wait('pc-a');
    await expect(first).rejects.toThrow(/a newer request replaced this one/);
    codes.give('pc-a', '654321');
    await expect(second).resolves.toBe('654321');
  });
});
