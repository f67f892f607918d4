import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRenderer, renderSummary } from '../../support/render.js';

// Hand-written Markdown: these tests prove the renderer shows what GitHub would, not the summary.

const gantt = [
  'gantt',
  '  dateFormat x',
  '  axisFormat %M:%S',
  '  section Shards',
  '  shard 1 :done, s1, 0, 5000',
  '  shard 2 :crit, s2, 1000, 8000',
].join('\n');

let shots: string;

beforeAll(async () => {
  shots = await mkdtemp(path.join(os.tmpdir(), 'cook-render-'));
});

afterAll(async () => {
  await closeRenderer();
  await rm(shots, { recursive: true, force: true });
});

describe('renderSummary', () => {
  it('renders a GFM table as a table with its cells, header row first', async () => {
    const rendered = await renderSummary(
      [
        '## Shards',
        '',
        '| Shard | Status | Time |',
        '| --- | :-: | --: |',
        '| `one` | ✅ passed | 5.0 s |',
        '| two \\| three | **failed** | 8.0 s |',
      ].join('\n'),
    );
    expect(rendered.tables).toEqual([
      [
        ['Shard', 'Status', 'Time'],
        ['one', '✅ passed', '5.0 s'],
        ['two | three', 'failed', '8.0 s'],
      ],
    ]);
    expect(rendered.text).toContain('Shards');
    expect(rendered.text).not.toContain('| ---');
    expect(rendered.html).toContain('<table>');
  });

  it('keeps a closed <details> collapsed: its contents are not in the visible text', async () => {
    const rendered = await renderSummary(
      [
        'Before.',
        '',
        '<details><summary>Full log</summary>',
        '',
        'a hidden line',
        '',
        '</details>',
        '',
        '<details open><summary>Open section</summary>',
        '',
        'a shown line',
        '',
        '</details>',
      ].join('\n'),
    );
    expect(rendered.text).toContain('Before.');
    expect(rendered.text).toContain('Full log');
    expect(rendered.text).not.toContain('a hidden line');
    expect(rendered.text).toContain('a shown line');
    expect(rendered.details).toEqual([
      { summary: 'Full log', open: false, text: 'a hidden line' },
      { summary: 'Open section', open: true, text: 'a shown line' },
    ]);
    // Reading a closed one must not leave it open.
    expect(rendered.html).toContain('<details><summary>Full log</summary>');
  });

  it('shows escaped HTML literally and strips what GitHub strips, so nothing runs', async () => {
    const rendered = await renderSummary(
      [
        "Reason: exit code 7 &lt;script&gt;document.title = 'ran'&lt;/script&gt;",
        '',
        "<script>document.body.append('PWNED' + '-script')</script>",
        '',
        '<img src="https://example.invalid/missing.png" onerror="document.body.append(\'PWNED\' + \'-onerror\')" alt="">',
        '',
        '<a href="javascript:alert(1)">a link</a>',
        '',
        '<p style="display:none">styled away</p>',
      ].join('\n'),
    );
    expect(rendered.text).toContain("Reason: exit code 7 <script>document.title = 'ran'</script>");
    // GFM's tagfilter (GitHub enables it) escapes a raw <script>: its source shows, it never runs.
    expect(rendered.text).toContain("<script>document.body.append('PWNED' + '-script')</script>");
    expect(rendered.text).not.toContain('PWNED-script');
    // The sanitizer drops the handler; with it, the refused image would append its text.
    expect(rendered.text).not.toContain('PWNED-onerror');
    // GitHub drops style attributes: text hidden by one shows.
    expect(rendered.text).toContain('styled away');
    expect(rendered.html).not.toMatch(/<script|onerror|javascript:|style=/i);
    expect(rendered.html).toContain('&lt;script&gt;');
    // No network: the image was refused, not fetched.
    expect(rendered.blocked.some((url) => url.endsWith('missing.png'))).toBe(true);
  });

  it('draws a mermaid gantt as an SVG with its task names', async () => {
    const rendered = await renderSummary(['# Timeline', '', '```mermaid', gantt, '```'].join('\n'));
    expect(rendered.html).toContain('<code class="language-mermaid">');
    expect(rendered.diagrams).toHaveLength(1);
    const [diagram] = rendered.diagrams;
    expect(diagram?.svg).toMatch(/^<svg[\s>]/);
    expect(diagram?.text).toContain('shard 1');
    expect(diagram?.text).toContain('shard 2');
    expect(diagram?.text).toContain('Shards');
    // The reader sees the chart, not its source.
    expect(rendered.text).not.toContain('dateFormat');
  });

  it('rejects a mermaid block with a syntax error, with mermaid’s message', async () => {
    await expect(
      renderSummary(['```mermaid', 'gantt', '  dateFormatt x', '```'].join('\n')),
    ).rejects.toThrow(/mermaid diagram 1 of 1 did not render:[\s\S]*Parse error/);
  });

  it('rejects a gantt that mermaid would draw with a task it could not read', async () => {
    const broken = gantt.replace('0, 5000', '0, soon');
    await expect(renderSummary(['```mermaid', broken, '```'].join('\n'))).rejects.toThrow(
      /"soon" is neither a valid date/,
    );
  });

  it('writes a full-page PNG screenshot', async () => {
    const file = path.join(shots, 'nested', 'summary.png');
    const rendered = await renderSummary(
      [
        '## Summary',
        '',
        '| a | b |',
        '| - | - |',
        '| 1 | 2 |',
        '',
        '```mermaid',
        gantt,
        '```',
      ].join('\n'),
      { screenshot: file, width: 900 },
    );
    expect(rendered.screenshot).toBe(file);
    expect((await stat(file)).size).toBeGreaterThan(1000);
    const png = await readFile(file);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // The IHDR chunk's width is the viewport's.
    expect(png.readUInt32BE(16)).toBe(900);
  });
});
