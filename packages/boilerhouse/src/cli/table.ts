/**
 * Aligned plain-text tables for people: a header row in capitals, columns padded to their widest cell and
 * separated by three spaces, numbers right-aligned. No colours or box drawing, so output pastes and greps.
 */

export type Cell = string | number | boolean | null | undefined;

export interface Column<Row> {
  header: string;
  value: (row: Row) => Cell;
  /** Right-align (numbers do by default). */
  align?: 'left' | 'right';
}

const GAP = '   ';

/** Renders rows under their headers; `empty` is printed instead when there are no rows. */
export function formatTable<Row>(columns: Array<Column<Row>>, rows: Row[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const texts = cells.map((row) => row.map(cellText));
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...texts.map((row) => displayWidth(row[index] ?? ''))),
  );
  const right = columns.map(
    (column, index) =>
      column.align === 'right' ||
      (column.align === undefined &&
        cells.every(
          (row) => typeof row[index] === 'number' || row[index] === null || row[index] === undefined,
        ) &&
        cells.some((row) => typeof row[index] === 'number')),
  );
  const line = (row: string[]) =>
    row
      .map((text, index) => pad(text, widths[index] ?? 0, right[index] === true))
      .join(GAP)
      .trimEnd();
  return `${[line(headers), ...texts.map(line)].join('\n')}\n`;
}

/** `KEY: value` lines with the values lined up, for one object (a claim, a pool). */
export function formatFields(fields: Array<[string, Cell]>): string {
  const width = Math.max(...fields.map(([key]) => key.length + 1));
  return `${fields.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${cellText(value)}`.trimEnd()).join('\n')}\n`;
}

export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  // A cell is one line: a newline in a message would break the columns.
  return String(value).replace(/\s*\n\s*/g, ' ');
}

function pad(text: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return right ? fill + text : text + fill;
}

/** Code points, not UTF-16 units, so an accented tenant name does not shift its row. */
function displayWidth(text: string): number {
  return [...text].length;
}
