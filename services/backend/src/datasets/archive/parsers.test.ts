import { describe, expect, it } from 'vitest';
import { findLabelFault } from './labelFile.ts';

describe('findLabelFault', () => {
  it('accepts boxes, blank lines, CRLF and class ids written as 1.0', () => {
    expect(findLabelFault('0 0.5 0.5 1 1\r\n\r\n  1.0 0 0 .25 1e-1  \n', 2)).toBeUndefined();
    expect(findLabelFault('', 1)).toBeUndefined();
  });

  it.each([
    ['0 0.5 0.5 0.1', 'line 1: expected 5 values (class x_center y_center width height), found 4'],
    ['0 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1', 'line 2: class id -1 is out of range'],
    ['0.5 0.5 0.5 0.1 0.1', 'line 1: class id 0.5 is not an integer'],
    ['0 0.5 0.5 0.1 NaN', 'line 1: "NaN" is not a number'],
    ['0 0.5 -0.1 0.1 0.1', 'line 1: coordinate -0.1 is outside [0, 1]'],
  ])('refuses %j', (text, fault) => {
    expect(findLabelFault(text, 2)).toContain(fault);
  });
});
