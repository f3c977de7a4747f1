import { describe, expect, it } from 'vitest';
import { labelFolderFor, parseDataYaml } from './dataYaml.ts';
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

describe('parseDataYaml', () => {
  it('reads names given as numbers and folder keys with ./ and trailing slashes', () => {
    expect(parseDataYaml('names: [0, 1, two]\ntrain: ./images/tr/\ntest: data/images/t')).toEqual({
      config: {
        names: ['0', '1', 'two'],
        imageFolders: { train: 'images/tr/', val: 'images/val/', test: 'data/images/t/' },
      },
    });
  });

  it.each([
    ['a: [', 'is not valid YAML'],
    ['- cat', 'must be a YAML mapping'],
    ['nc: 1', '`names` is missing'],
    ['names: []', '`names` is empty'],
    ['names: [cat, ""]', 'names[1] must be a non-empty string'],
    ['names: [cat]\nval: /data/images/val', 'must be a folder inside the archive'],
    ['names: [cat]\ntrain: train.txt', 'must be a folder with an images segment'],
  ])('refuses %j', (text, fault) => {
    expect(parseDataYaml(text).faults?.join('\n')).toContain(fault);
  });

  it('finds labels where Ultralytics does: the last images segment becomes labels', () => {
    expect(labelFolderFor('images/train/')).toBe('labels/train/');
    expect(labelFolderFor('images/x/images/')).toBe('images/x/labels/');
  });
});
