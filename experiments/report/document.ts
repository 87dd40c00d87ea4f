// The report as a list of blocks, rendered to Markdown (figures linked from
// figures/) and to one self-contained HTML file (figures inlined as SVG, no
// external references).
import { escapeHtml } from './format.js';
import { tableHtml, tableMarkdown, type ResultTable } from './tables.js';

export type Block =
  | { kind: 'h'; level: 1 | 2 | 3; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'code'; text: string }
  | { kind: 'table'; table: ResultTable; files: string[] }
  | { kind: 'figure'; name: string; title: string; caption: string; svg: string; files: string[] };

/** `code` spans in text: rendered as <code> in HTML, kept as is in Markdown. */
function inlineHtml(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        out.push(`${'#'.repeat(b.level)} ${b.text}\n`);
        break;
      case 'p':
        out.push(`${b.text}\n`);
        break;
      case 'list':
        out.push(b.items.map((i) => `- ${i}`).join('\n') + '\n');
        break;
      case 'code':
        out.push('```\n' + b.text + '\n```\n');
        break;
      case 'table':
        out.push(tableMarkdown(b.table) + `\n*${b.table.caption}* (${b.files.map((f) => `[${f.replace(/^.*\./, '').toUpperCase()}](${f})`).join(', ')})\n`);
        break;
      case 'figure':
        out.push(`![${b.title}](${b.files[0]})\n\n*Figure: ${b.caption}* (${b.files.map((f) => `[${f.replace(/^.*\./, '').toUpperCase()}](${f})`).join(', ')})\n`);
        break;
    }
  }
  return out.join('\n');
}

const CSS = `body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}caption{caption-side:bottom;font-style:italic;padding-top:.4em;text-align:left}
th,td{padding:.25em .6em;border-top:1px solid #ccc;text-align:right}thead th{border-bottom:2px solid #444;border-top:2px solid #444}th:first-child{text-align:left}
tbody tr:last-child th,tbody tr:last-child td{border-bottom:2px solid #444}
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
code,pre{background:#f5f5f5;border-radius:3px}pre{padding:.6em;overflow-x:auto}code{padding:0 .2em}`;

export function toHtml(title: string, blocks: Block[]): string {
  const body: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        body.push(`<h${b.level}>${inlineHtml(b.text)}</h${b.level}>`);
        break;
      case 'p':
        body.push(`<p>${inlineHtml(b.text).replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')}</p>`);
        break;
      case 'list':
        body.push(`<ul>\n${b.items.map((i) => `<li>${inlineHtml(i).replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')}</li>`).join('\n')}\n</ul>`);
        break;
      case 'code':
        body.push(`<pre><code>${escapeHtml(b.text)}</code></pre>`);
        break;
      case 'table':
        body.push(tableHtml(b.table));
        break;
      case 'figure': {
        const svg = b.svg.replace(/^<\?xml[^>]*>\s*/, '').replace(/<svg /, `<svg role="img" aria-label="${escapeHtml(b.title)}" `);
        body.push(`<figure id="fig-${escapeHtml(b.name)}">\n${svg}\n<figcaption>${inlineHtml(b.caption)}</figcaption>\n</figure>`);
        break;
      }
    }
  }
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n<style>\n${CSS}\n</style>\n</head>\n<body>\n${body.join('\n')}\n</body>\n</html>\n`;
}
