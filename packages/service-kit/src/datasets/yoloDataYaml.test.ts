import { describe, expect, it } from 'vitest';
import { labelFolderFor, parseDataYaml } from './yoloDataYaml.ts';

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
