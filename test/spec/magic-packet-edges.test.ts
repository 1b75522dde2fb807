/**
 * A SecureOn password that is not text or bytes (a number from a flow, say) gets an error that
 * says what is wrong, without repeating the value.
 */
import { InputError } from '../../lib/errors';
import { parseSecureOn } from '../../lib/wol/magic-packet';

describe('SecureOn password of the wrong type', () => {
  it.each([[123456], [null], [{ password: 'x' }], [['aa']]])('%j is refused with a message that says so', (value) => {
    expect(() => parseSecureOn(value)).toThrow(new InputError('SecureOn password must be text'));
  });
});
