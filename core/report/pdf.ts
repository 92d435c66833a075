// HTML → PDF with the system Chromium through puppeteer. The page's network is blocked: request
// interception aborts every request that is not a data: URL, so a template cannot fetch anything
// (DESIGN.md, trust boundaries) — the HTML is self-contained anyway. One browser serves every report of
// a run (`withBrowser`); each PDF gets a fresh page. The browser runs headless without a sandbox (we
// run as root in containers), with its own throw-away profile and no background traffic.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer';
import type { Browser } from 'puppeteer';
import Handlebars from 'handlebars';
import { RunError } from '../errors.ts';

export interface PdfOptions {
  size: 'A4' | 'Letter';
  orientation?: 'portrait' | 'landscape';
  /** Shown in the running header of every page. */
  title: string;
  /** Small print on the left of the footer (company, period). */
  footer?: string;
}

export interface ReportBrowser {
  pdf(html: string, options: PdfOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumPath(env: Record<string, string | undefined> = process.env): string {
  return env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';
}

const esc = (s: string) => Handlebars.escapeExpression(s);

/** Launches a browser for a run's PDFs; close it when the run is done. */
export async function launchBrowser(env: Record<string, string | undefined> = process.env): Promise<ReportBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'touchpoint-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({ executablePath: chromiumPath(env), headless: true, args: CHROMIUM_ARGS, userDataDir: profile });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new RunError(`cannot start Chromium at ${chromiumPath(env)}: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'install it (apt-get install chromium) or set PUPPETEER_EXECUTABLE_PATH; or render --format html only',
      cause: error,
    });
  }
  return {
    async pdf(html, options) {
      const page = await browser.newPage();
      try {
        await page.setRequestInterception(true);
        page.on('request', (request) => {
          if (request.url().startsWith('data:')) void request.continue();
          else void request.abort('blockedbyclient');
        });
        await page.emulateMediaType('print');
        await page.setContent(html, { waitUntil: 'load', timeout: 30_000 });
        const small = 'font-family: "Liberation Sans", Arial, sans-serif; font-size: 8px; color: #6b7280; width: 100%; padding: 0 14mm;';
        const bytes = await page.pdf({
          format: options.size,
          landscape: options.orientation === 'landscape',
          printBackground: true,
          displayHeaderFooter: true,
          headerTemplate: `<div style='${small} text-align: right;'>${esc(options.title)}</div>`,
          footerTemplate: `<div style='${small} display: flex; justify-content: space-between;'><span>${esc(options.footer ?? '')}</span><span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
          margin: { top: '16mm', bottom: '16mm', left: '14mm', right: '14mm' },
          timeout: 60_000,
        });
        return bytes;
      } finally {
        await page.close().catch(() => undefined);
      }
    },
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a browser and always closes it. */
export async function withBrowser<T>(fn: (browser: ReportBrowser) => Promise<T>, env?: Record<string, string | undefined>): Promise<T> {
  const browser = await launchBrowser(env);
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}
