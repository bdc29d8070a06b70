import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NoUsableRowsError, readPurchases, readUsers } from '../../../src/ml';
import { pairsOf, textStream } from '../../helpers/purchases';

describe('readPurchases', () => {
  it('aggregates good rows into per-(customer, product) counts, merging a customer across lines', async () => {
    const csv = ['customerId,products', '0,5|3|5', '2,1', '0,3|7', ''].join('\n');
    const h = await readPurchases(textStream(csv), { source: 'test.csv' });
    expect(h.userRows).toBe(3);
    expect(h.productRows).toBe(8);
    expect(pairsOf(h, 0)).toEqual([
      [3, 2],
      [5, 2],
      [7, 1],
    ]);
    expect(pairsOf(h, 1)).toEqual([]);
    expect(pairsOf(h, 2)).toEqual([[1, 1]]);
    expect(h.stats).toEqual({ transactions: 3, purchases: 6, customers: 2, pairs: 4 });
    expect(h.badLines).toEqual({ total: 0, reports: [], truncated: false });
  });

  it("records when each pair was bought: the mean ordinal of the baskets holding it, on the history's clock", async () => {
    // baskets 0..3 of 4: clock = (mean ordinal + 0.5) / 4
    const csv = ['customerId,products', '0,5|3|5', '2,1', '0,3|7', '0,9', ''].join('\n');
    const h = await readPurchases(textStream(csv), { source: 'test.csv' });
    const at = (u: number) => Array.from(h.positions.subarray(h.userOffsets[u], h.userOffsets[u + 1]));
    // customer 0: product 3 in baskets 0 and 2, 5 in basket 0 (twice), 7 in 2, 9 in 3
    expect(at(0)).toEqual([(1 + 0.5) / 4, 0.5 / 4, 2.5 / 4, 3.5 / 4]);
    expect(at(2)).toEqual([1.5 / 4]);
    expect(h.positions.length).toBe(h.products.length);
  });

  it('handles CRLF, a BOM, quoted fields, spaces and blank trailing lines', async () => {
    const csv = '\uFEFFcustomerId,products\r\n1, "4|4" \r\n 3 ,2\r\n\r\n\r\n';
    const h = await readPurchases(textStream(csv, 3), { source: 'crlf.csv' });
    expect(h.badLines.total).toBe(0);
    expect(pairsOf(h, 1)).toEqual([[4, 2]]);
    expect(pairsOf(h, 3)).toEqual([[2, 1]]);
  });

  it('skips malformed lines and reports each with its line number and reason', async () => {
    const csv = [
      'customerId,products', // 1
      '1,2|3', // 2 good
      'x,2', // 3 non-numeric customer
      '-4,2', // 4 negative customer
      '5,', // 5 empty product list
      '6,2|-1', // 6 negative product
      '7,2|a|3', // 7 non-numeric product
      '8,2,3', // 8 too many columns
      '9', // 9 too few columns
      '10,1||2', // 10 empty product id
      '11,1.5', // 11 non-integer
      '12,99999999999', // 12 beyond the id limit
      '', // 13 blank: ignored
      '13,4', // 14 good
    ].join('\n');
    const h = await readPurchases(textStream(csv), { source: 'bad.csv' });
    expect(h.stats.transactions).toBe(2);
    expect(pairsOf(h, 1)).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(pairsOf(h, 13)).toEqual([[4, 1]]);
    const reports = h.badLines.reports.map((r) => [r.line, r.reason]);
    expect(reports).toEqual([
      [3, 'customerId "x" is not a non-negative integer'],
      [4, 'customerId "-4" is negative'],
      [5, 'empty product list'],
      [6, 'product 2 "-1" is negative'],
      [7, 'product 2 "a" is not a non-negative integer'],
      [8, 'expected 2 columns (customerId,products), got 3'],
      [9, 'expected 2 columns (customerId,products), got 1'],
      [10, 'product 2 "" is empty'],
      [11, 'product 1 "1.5" is not a non-negative integer'],
      [12, 'product 1 "99999999999" exceeds the largest accepted id 16777215'],
    ]);
    expect(h.badLines.total).toBe(10);
    expect(h.badLines.truncated).toBe(false);
    expect(h.badLines.reports[0].text).toBe('x,2');
  });

  it('reports a missing or wrong header as a bad line 1', async () => {
    const h = await readPurchases(textStream('customer,items\n1,2\n'), { source: 'h.csv' });
    expect(h.badLines.reports).toEqual([{ line: 1, reason: 'expected header "customerId,products"', text: 'customer,items' }]);
    expect(h.stats.transactions).toBe(1);
  });

  it('keeps the first N reports but counts every bad line', async () => {
    const lines = ['customerId,products'];
    for (let i = 0; i < 250; i++) lines.push(`bad${i},1`);
    lines.push('1,1');
    const h = await readPurchases(textStream(lines.join('\n'), 4096), { source: 'many.csv', maxBadLineReports: 5 });
    expect(h.badLines.total).toBe(250);
    expect(h.badLines.reports.map((r) => r.line)).toEqual([2, 3, 4, 5, 6]);
    expect(h.badLines.truncated).toBe(true);
  });

  it('throws a clear error naming the source when no row is usable', async () => {
    const read = readPurchases(textStream('customerId,products\nfoo,bar\n,\n'), { source: 's3://data/recommender/transactions.csv' });
    await expect(read).rejects.toBeInstanceOf(NoUsableRowsError);
    await expect(
      readPurchases(textStream('customerId,products\nfoo,bar\n,\n'), { source: 's3://data/recommender/transactions.csv' }),
    ).rejects.toThrow(
      /^s3:\/\/data\/recommender\/transactions\.csv: no usable rows \(2 data lines read, 2 bad lines \(line 2: customerId "foo" is not a non-negative integer; line 3: /,
    );
  });

  it('throws on an empty file and on a header-only file', async () => {
    await expect(readPurchases(textStream(''), { source: 'empty.csv' })).rejects.toThrow(/empty\.csv: no usable rows/);
    await expect(readPurchases(textStream('customerId,products\r\n\r\n'), { source: 'header.csv' })).rejects.toThrow(
      /header\.csv: no usable rows \(0 data lines/,
    );
  });

  it('rejects invalid reader options', async () => {
    await expect(readPurchases(textStream('customerId,products\n1,1\n'), { source: '' })).rejects.toThrow();
  });
});

describe('readUsers', () => {
  it('reads distinct customer ids and reports bad lines', async () => {
    const csv = 'customerId\r\n3\r\n1\r\n3\r\nabc\r\n1,2\r\n\r\n';
    const users = await readUsers(textStream(csv), { source: 'users.csv' });
    expect(Array.from(users.customerIds)).toEqual([1, 3]);
    expect(users.duplicates).toBe(1);
    expect(users.badLines.reports.map((r) => [r.line, r.reason])).toEqual([
      [5, 'customerId "abc" is not a non-negative integer'],
      [6, 'expected 1 column (customerId), got 2'],
    ]);
  });

  it('throws when no id is usable', async () => {
    await expect(readUsers(textStream('customerId\n-1\n'), { source: 'users.csv' })).rejects.toThrow(/users\.csv: no usable rows/);
  });
});

describe('hostile line lengths (issue 24, item 6)', () => {
  it('reports a 600 MiB line without a newline as one bad line, without a RangeError, and reads the lines around it', async () => {
    const MiB = Buffer.alloc(1024 * 1024, 0x31); // '1' repeated
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('customerId,products\n0,1|2\n5,');
      for (let i = 0; i < 600; i++) yield MiB;
      yield Buffer.from('\n1,2|3\n');
    }
    const history = await readPurchases(Readable.from(source()), { source: 'huge-line.csv' });
    expect(history.stats.transactions).toBe(2);
    expect(history.badLines.total).toBe(1);
    expect(history.badLines.reports[0]).toMatchObject({ line: 3 });
    expect(history.badLines.reports[0].reason).toMatch(/^line of 629145602 bytes is longer than the limit of 1048576 bytes$/);
  });
});
