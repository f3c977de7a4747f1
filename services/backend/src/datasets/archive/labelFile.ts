const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The first fault of a YOLO detection label file, or undefined when every non-empty line is
 * `class x_center y_center width height`: an integer class id in [0, classCount) and four numbers in [0, 1].
 * Lines with more values (segmentation polygons, keypoints) are refused: the platform trains detection only,
 * and Ultralytics would silently turn polygons into boxes.
 */
export function findLabelFault(text: string, classCount: number): string | undefined {
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const fault = lineFault(line.split(/\s+/), classCount);
    if (fault) return `line ${index + 1}: ${fault}`;
  }
  return undefined;
}

function lineFault(values: string[], classCount: number): string | undefined {
  if (values.length !== 5) {
    return `expected 5 values (class x_center y_center width height), found ${values.length}`;
  }
  const bad = values.find((value) => !NUMBER.test(value));
  if (bad !== undefined) return `"${bad}" is not a number`;
  const [classId, ...box] = values.map(Number);
  if (!Number.isInteger(classId)) return `class id ${values[0]} is not an integer`;
  if (classId === undefined || classId < 0 || classId >= classCount) {
    return `class id ${values[0]} is out of range: data.yaml has ${classCount} classes (0-${classCount - 1})`;
  }
  const outside = box.findIndex((value) => value < 0 || value > 1);
  if (outside !== -1) return `coordinate ${values[outside + 1]} is outside [0, 1]; boxes must be normalised`;
  return undefined;
}
