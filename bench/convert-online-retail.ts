/**
 * Converts the UCI "Online Retail" table (one row per invoice line: InvoiceNo,
 * StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
 * Country — the xlsx sheet exported as CSV) into the project's purchase CSV:
 *
 *   tsx bench/convert-online-retail.ts "Online Retail.csv" data/online-retail
 *
 * writes transactions.csv (`customerId,products`, one line per invoice, the
 * invoice's distinct products `|`-separated) and products.csv (`productId,
 * stockCode,description`). Kept: invoice lines with a CustomerID, not
 * cancelled (InvoiceNo not starting with C), Quantity > 0, UnitPrice > 0,
 * and a product StockCode (five digits, optional letters; drops POST, M, D,
 * BANK CHARGES, AMAZONFEE, gift vouchers …). Stock codes are upper-cased
 * ('85123a' = '85123A'). Customers and products get dense ids in ascending
 * CustomerID / StockCode order, so table sizes are the counts.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';

const COLUMNS = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'UnitPrice', 'CustomerID'] as const;
const PRODUCT_CODE = /^\d{5}[A-Z]*$/;

/** Splits one CSV line (RFC 4180 quoting; the source has no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

interface Invoice {
  customer: number;
  codes: Set<string>;
}

async function main(): Promise<void> {
  const [input, outDir] = process.argv.slice(2);
  if (!input || !outDir) throw new Error('usage: tsx bench/convert-online-retail.ts <Online Retail.csv> <output dir>');
  const lines = readline.createInterface({ input: createReadStream(input), crlfDelay: Infinity });
  let index: Record<(typeof COLUMNS)[number], number> | undefined;
  const invoices = new Map<string, Invoice>();
  const descriptions = new Map<string, Map<string, number>>();
  let rows = 0;
  let kept = 0;
  for await (const raw of lines) {
    const line = raw.replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    const f = splitCsvLine(line);
    if (!index) {
      const header = f.map((h) => h.trim());
      const at = (name: string) => {
        const i = header.indexOf(name);
        if (i < 0) throw new Error(`${input}: header has no ${name} column (found: ${header.join(', ')})`);
        return i;
      };
      index = Object.fromEntries(COLUMNS.map((c) => [c, at(c)])) as Record<(typeof COLUMNS)[number], number>;
      continue;
    }
    rows++;
    const invoice = f[index.InvoiceNo].trim();
    const code = f[index.StockCode].trim().toUpperCase();
    const customerField = f[index.CustomerID].trim();
    const quantity = Number(f[index.Quantity]);
    const price = Number(f[index.UnitPrice]);
    if (customerField === '' || invoice.startsWith('C') || !(quantity > 0) || !(price > 0) || !PRODUCT_CODE.test(code)) continue;
    const customer = Number(customerField); // 17850 or 17850.0
    if (!Number.isInteger(customer)) throw new Error(`${input}: line ${rows + 1}: CustomerID ${customerField} is not an integer`);
    kept++;
    let inv = invoices.get(invoice);
    if (!inv) invoices.set(invoice, (inv = { customer, codes: new Set() }));
    else if (inv.customer !== customer) throw new Error(`${input}: invoice ${invoice} has customers ${inv.customer} and ${customer}`);
    inv.codes.add(code);
    const d = f[index.Description].trim();
    const counts = descriptions.get(code) ?? new Map<string, number>();
    counts.set(d, (counts.get(d) ?? 0) + 1);
    descriptions.set(code, counts);
  }
  const customerIds = [...new Set([...invoices.values()].map((i) => i.customer))].sort((a, b) => a - b);
  const customerRow = new Map(customerIds.map((c, i) => [c, i]));
  const codes = [...descriptions.keys()].sort();
  const productRow = new Map(codes.map((c, i) => [c, i]));
  // invoices in ascending invoice number: the file's own (chronological) order
  const ordered = [...invoices.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out = ['customerId,products'];
  for (const [, inv] of ordered) {
    const products = [...inv.codes].map((c) => productRow.get(c)!).sort((a, b) => a - b);
    out.push(`${customerRow.get(inv.customer)},${products.join('|')}`);
  }
  const products = ['productId,stockCode,description'];
  for (const c of codes) {
    // the most frequent description of the code (a few codes were renamed over the year)
    const best = [...descriptions.get(c)!.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    products.push(`${productRow.get(c)},${c},"${best.replace(/"/g, '""')}"`);
  }
  await fs.mkdir(outDir, { recursive: true });
  await fs.writeFile(path.join(outDir, 'transactions.csv'), out.join('\n') + '\n');
  await fs.writeFile(path.join(outDir, 'products.csv'), products.join('\n') + '\n');
  console.log(
    `${rows} invoice lines read, ${kept} kept; ${ordered.length} invoices, ${customerIds.length} customers, ${codes.length} products → ${outDir}`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
