import { describe, expect, it } from 'vitest';
import { checkNumberSetting } from './setting-fields';

describe('checkNumberSetting', () => {
  it('uses a value in range as typed, with no message', () => {
    expect(checkNumberSetting('temperature', 'Temperature', '0.35', 0.7)).toEqual({ value: 0.35, message: null });
    expect(checkNumberSetting('maxNewTokens', 'Max new tokens', '1024', 256)).toEqual({ value: 1024, message: null });
  });

  it('brings a value out of range to the nearest end and says so, naming the range and the value used', () => {
    expect(checkNumberSetting('temperature', 'Temperature', '-1', 0.7)).toEqual({
      value: 0,
      message: 'Temperature takes a number from 0 to 2, so 0 is used instead of -1.',
    });
    expect(checkNumberSetting('maxNewTokens', 'Max new tokens', '1e9', 256)).toEqual({
      value: 1024,
      message: 'Max new tokens takes a whole number from 16 to 1024, so 1024 is used instead of 1e9.',
    });
    expect(checkNumberSetting('maxNewTokens', 'Max new tokens', '0', 256).value).toBe(16);
    expect(checkNumberSetting('topP', 'Top-p', '0', 0.9).value).toBe(0.05);
  });

  it('rounds a whole-number setting and says so', () => {
    expect(checkNumberSetting('topK', 'Top-k', '3.6', 40)).toEqual({ value: 4, message: 'Top-k takes a whole number from 0 to 200, so 4 is used instead of 3.6.' });
  });

  it('keeps the previous value for letters or an emptied field, and says so', () => {
    expect(checkNumberSetting('repetitionPenalty', 'Repetition penalty', 'abc', 1.1)).toEqual({
      value: 1.1,
      message: 'Repetition penalty takes a number from 1 to 2; “abc” is not a number, so 1.1 is still used.',
    });
    expect(checkNumberSetting('temperature', 'Temperature', '', 0.7)).toEqual({
      value: 0.7,
      message: 'Temperature takes a number from 0 to 2; the field holds no number, so 0.7 is still used.',
    });
    expect(checkNumberSetting('temperature', 'Temperature', 'Infinity', 0.7).value).toBe(0.7);
  });
});
