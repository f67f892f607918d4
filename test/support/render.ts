/**
 * Renders a job summary the way GitHub shows it, in real headless Chromium, so tests can check what
 * a person sees: GitHub Flavoured Markdown with raw HTML (micromark + GFM), roughly GitHub's HTML
 * sanitizer, ```mermaid blocks drawn by the real mermaid package, and a GitHub-like stylesheet.
 * Chromium is Debian's (`npm run ground` installs it); a missing browser fails, never skips.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { chromium, type Browser, type Page } from 'playwright-core';

export interface RenderedSummary {
  /**
   * document.body.innerText as Chromium lays it out: what a person reads (the contents of a
   * collapsed <details> are NOT in it; a diagram's labels are).
   */
  readonly text: string;
  /** Every rendered table, collapsed or not: rows of cell texts (header row first). */
  readonly tables: string[][][];
  /** Every <details>: its summary text, whether it is open, and the rest of its text once opened. */
  readonly details: { summary: string; open: boolean; text: string }[];
  /** Every mermaid diagram, rendered to an SVG, and the text it shows (e.g. the task names of a gantt). */
  readonly diagrams: { svg: string; text: string }[];
  /** The HTML the Markdown became, after the sanitizer and before mermaid ran. */
  readonly html: string;
  /** Where the PNG screenshot went, if asked. */
  readonly screenshot?: string;
  /** URLs the page tried to load and was refused: the page never reaches the network. */
  readonly blocked: string[];
}

export interface RenderOptions {
  /** Write a full-page PNG screenshot here (its folder is created). */
  readonly screenshot?: string;
  /** Viewport width in CSS pixels; 1024 unless given. */
  readonly width?: number;
}

export const CHROMIUM_PATH = '/usr/bin/chromium';

const mermaidBundle = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');

// Written for these tests: close to a GitHub job summary, not a copy of GitHub's CSS.
const STYLESHEET = `
html { background: #fff; }
body {
  margin: 0; padding: 16px 24px; color: #1f2328; background: #fff;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
    "Liberation Sans", "DejaVu Sans", sans-serif;
  font-size: 14px; line-height: 1.5; word-wrap: break-word;
}
.markdown-body { max-width: 1000px; }
h1, h2, h3, h4 { margin: 24px 0 16px; font-weight: 600; line-height: 1.25; }
h1 { font-size: 2em; } h2 { font-size: 1.5em; } h3 { font-size: 1.25em; } h4 { font-size: 1em; }
h1, h2 { padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
p, ul, ol, blockquote, pre, table, details { margin: 0 0 16px; }
a { color: #0969da; text-decoration: none; }
code, pre {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono",
    monospace;
  font-size: 85%;
}
code { padding: .2em .4em; border-radius: 6px; background: #eff1f3; }
pre { padding: 16px; overflow: auto; border-radius: 6px; background: #f6f8fa; }
pre code { padding: 0; background: none; font-size: 100%; }
table { display: block; width: max-content; max-width: 100%; overflow: auto; border-spacing: 0;
  border-collapse: collapse; }
th, td { padding: 6px 13px; border: 1px solid #d1d9e0; }
th { font-weight: 600; }
tr:nth-child(2n) { background: #f6f8fa; }
details summary { cursor: pointer; display: list-item; }
blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
.mermaid-diagram { margin: 0 0 16px; }
`;

const SHELL = `<!doctype html><html><head><meta charset="utf-8"><title>Job summary</title>
<style>${STYLESHEET}</style></head><body><article class="markdown-body" id="summary"></article></body></html>`;

let browser: Promise<Browser> | undefined;
let diagramPage: Promise<DiagramPage> | undefined;
// The diagram page draws one summary's diagrams at a time.
let drawing: Promise<unknown> = Promise.resolve();

/** A page with mermaid loaded once (5 MB of script), and what mermaid logged there. */
interface DiagramPage {
  readonly page: Page;
  readonly log: string[];
}

function sharedBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}, so the job summary cannot be rendered: run ` +
        `'npm run ground' (it installs Debian's chromium package).`,
    );
  }
  if (!browser) {
    const launching = chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    browser = launching;
    const forget = () => {
      if (browser === launching) {
        browser = undefined;
        diagramPage = undefined;
      }
    };
    launching.then((b) => b.on('disconnected', forget), forget);
  }
  return browser;
}

/** Closes the browser the renders share (for afterAll). */
export async function closeRenderer(): Promise<void> {
  const closing = browser;
  browser = undefined;
  diagramPage = undefined;
  if (closing) await (await closing).close();
}

/** GitHub Flavoured Markdown to HTML, raw HTML kept (the sanitizer runs in the page). */
export function markdownToHtml(markdown: string): string {
  return micromark(markdown, {
    allowDangerousHtml: true,
    extensions: [gfm()],
    htmlExtensions: [gfmHtml()],
  });
}

async function offlinePage(width: number, blocked: string[] = []): Promise<Page> {
  const page = await (await sharedBrowser()).newPage({ viewport: { width, height: 768 } });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || url.startsWith('about:')) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await page.setContent(SHELL, { waitUntil: 'load' });
  return page;
}

export async function renderSummary(
  markdown: string,
  options: RenderOptions = {},
): Promise<RenderedSummary> {
  const html = markdownToHtml(markdown);
  const width = options.width ?? 1024;
  const blocked: string[] = [];
  const page = await offlinePage(width, blocked);
  try {
    const sanitized = await page.evaluate(mountSummary, html);
    const sources = await page.evaluate(mermaidSources);
    const diagrams =
      sources.length === 0
        ? []
        : await page.evaluate(placeDiagrams, await drawDiagrams(sources, width));
    await page.evaluate(settle);
    const seen = await page.evaluate(readSummary);
    let screenshot: string | undefined;
    if (options.screenshot) {
      screenshot = path.resolve(options.screenshot);
      await mkdir(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true, type: 'png' });
    }
    return { ...seen, diagrams, html: sanitized, blocked, ...(screenshot ? { screenshot } : {}) };
  } finally {
    await page.context().close();
  }
}

/**
 * Draws mermaid sources to SVG in a page of the same layout, as GitHub draws each diagram in a
 * frame of its own. A syntax error, or anything mermaid warns it ignored (a gantt task with an
 * unreadable date is drawn anyway, with zero length), rejects with mermaid's words.
 */
function drawDiagrams(sources: string[], width: number): Promise<string[]> {
  const run = drawing.then(async () => {
    const { page, log } = await sharedDiagramPage();
    await page.setViewportSize({ width, height: 768 });
    const svgs: string[] = [];
    for (const [index, source] of sources.entries()) {
      log.length = 0;
      const outcome = await page.evaluate(drawMermaid, { id: `mermaid-${index}`, source });
      // A thrown error says it all; mermaid also logs it, with stack traces.
      const problems = 'error' in outcome ? [outcome.error] : [...log];
      if (problems.length > 0 || !('svg' in outcome)) {
        throw new Error(
          `mermaid diagram ${index + 1} of ${sources.length} did not render:\n${problems.join('\n')}`,
        );
      }
      svgs.push(outcome.svg);
    }
    return svgs;
  });
  drawing = run.catch(() => undefined);
  return run;
}

function sharedDiagramPage(): Promise<DiagramPage> {
  if (!diagramPage) {
    const opening = (async () => {
      const page = await offlinePage(1024);
      const log: string[] = [];
      page.on('console', (message) => {
        if (message.type() !== 'warning' && message.type() !== 'error') return;
        // mermaid's logger prefixes "%c<time> : WARN : " and a CSS colour argument.
        log.push(message.text().replace(/^%c\S+ : (\w+) :\s+color: \S+\s*/, '$1: '));
      });
      page.on('pageerror', (error) => log.push(`page error: ${error.message}`));
      await page.addScriptTag({ path: mermaidBundle });
      await page.evaluate(startMermaid);
      return { page, log };
    })();
    diagramPage = opening;
    opening.then(
      ({ page }) =>
        page.on('close', () => {
          if (diagramPage === opening) diagramPage = undefined;
        }),
      () => {
        if (diagramPage === opening) diagramPage = undefined;
      },
    );
  }
  return diagramPage;
}

// --- In the page -----------------------------------------------------------------------------------
// The functions below run in Chromium (Playwright sends their source), so they use nothing from this
// module. The test project compiles without the DOM library; these few members are all they use.

interface PageElement {
  readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }>;
  readonly content: PageElement;
  readonly innerText: string;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
  readonly rows: ArrayLike<{ readonly cells: ArrayLike<PageElement> }>;
  innerHTML: string;
  open: boolean;
  className: string;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  removeAttribute(name: string): void;
  replaceWith(node: PageElement): void;
  remove(): void;
  append(...nodes: PageElement[]): void;
}

interface PageGlobals {
  readonly document: {
    readonly body: PageElement;
    readonly fonts: { readonly ready: Promise<unknown> };
    createElement(tag: string): PageElement;
    getElementById(id: string): PageElement | null;
  };
  readonly mermaid: {
    initialize(config: Record<string, unknown>): void;
    render(id: string, text: string, container?: PageElement): Promise<{ svg: string }>;
  };
  requestAnimationFrame(callback: () => void): void;
}

/**
 * Sanitizes the HTML and puts it in the page; returns what it became. This approximates GitHub's
 * sanitizer only where it matters for honesty: no scripts, styles, frames or plugins, no event
 * handler or style attributes, no javascript: URLs. A summary that relied on them looks wrong
 * here as it would on GitHub. (micromark's GFM tagfilter, which GitHub also applies, has already
 * escaped raw <script>, <style>, <iframe> and the like into text.) The HTML is parsed in an inert
 * <template>, so nothing runs before it is clean.
 */
function mountSummary(html: string): string {
  const { document } = globalThis as unknown as PageGlobals;
  const template = document.createElement('template');
  template.innerHTML = html;
  const fragment = template.content;
  for (const element of Array.from(
    fragment.querySelectorAll('script, style, iframe, frame, object, embed, link, meta, base'),
  )) {
    element.remove();
  }
  for (const element of Array.from(fragment.querySelectorAll('*'))) {
    for (const { name, value } of Array.from(element.attributes)) {
      const lower = name.toLowerCase();
      // The parser has decoded entities; browsers also ignore whitespace and controls in a scheme.
      // eslint-disable-next-line no-control-regex
      const scheme = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
      if (
        lower.startsWith('on') ||
        lower === 'style' ||
        ((lower === 'href' || lower === 'src' || lower.endsWith(':href') || lower === 'action') &&
          (scheme.startsWith('javascript:') || scheme.startsWith('vbscript:')))
      ) {
        element.removeAttribute(name);
      }
    }
  }
  const summary = document.getElementById('summary');
  if (!summary) throw new Error('the page has no #summary');
  summary.append(fragment);
  return summary.innerHTML;
}

/** The text of each ```mermaid block, in order. */
function mermaidSources(): string[] {
  const { document } = globalThis as unknown as PageGlobals;
  return Array.from(document.body.querySelectorAll('pre > code.language-mermaid')).map(
    (code) => code.textContent ?? '',
  );
}

function startMermaid(): void {
  const { mermaid } = globalThis as unknown as PageGlobals;
  mermaid.initialize({
    startOnLoad: false,
    theme: 'default',
    securityLevel: 'strict',
    logLevel: 'warn',
  });
}

/** In the diagram page: one diagram, drawn where the summary's content would be. */
async function drawMermaid(diagram: {
  id: string;
  source: string;
}): Promise<{ svg: string } | { error: string }> {
  const { document, mermaid } = globalThis as unknown as PageGlobals;
  const container = document.getElementById('summary');
  if (!container) return { error: 'the diagram page has no #summary' };
  try {
    const { svg } = await mermaid.render(diagram.id, diagram.source, container);
    return { svg };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    container.innerHTML = '';
  }
}

/** Replaces each ```mermaid block with its SVG, as GitHub shows it; returns each one's text. */
function placeDiagrams(svgs: string[]): { svg: string; text: string }[] {
  const { document } = globalThis as unknown as PageGlobals;
  const blocks = Array.from(document.body.querySelectorAll('pre > code.language-mermaid'));
  return blocks.map((code, index) => {
    const holder = document.createElement('div');
    holder.className = 'mermaid-diagram';
    holder.innerHTML = svgs[index] ?? '';
    code.parentElement?.replaceWith(holder);
    const text = Array.from(holder.querySelectorAll('svg text, svg foreignObject'))
      .map((label) => (label.textContent ?? '').trim())
      .filter((label) => label !== '')
      .join('\n');
    return { svg: svgs[index] ?? '', text };
  });
}

/** Waits for fonts and a laid-out frame before the page is read or photographed. */
async function settle(): Promise<void> {
  const page = globalThis as unknown as PageGlobals;
  await page.document.fonts.ready;
  await new Promise<void>((resolve) => page.requestAnimationFrame(() => resolve()));
}

function readSummary(): Pick<RenderedSummary, 'text' | 'tables' | 'details'> {
  const { document } = globalThis as unknown as PageGlobals;
  const body = document.body;
  const tables = Array.from(body.querySelectorAll('table')).map((table) =>
    Array.from(table.rows).map((row) => Array.from(row.cells).map((cell) => cell.innerText.trim())),
  );
  const details = Array.from(body.querySelectorAll('details')).map((element) => {
    const open = element.open;
    const summary = element.querySelector(':scope > summary')?.innerText.trim() ?? '';
    // Opened for a moment to read it as laid out (nested <details> keep their own state).
    element.open = true;
    let text = element.innerText.trim();
    element.open = open;
    if (summary && text.startsWith(summary)) text = text.slice(summary.length).trim();
    return { summary, open, text };
  });
  return { text: body.innerText, tables, details };
}
