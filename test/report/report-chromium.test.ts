/**
 * Opens the build report in headless Chromium (Debian's /usr/bin/chromium, which .ci/run installs
 * when missing; CHROMIUM overrides the path) driven by playwright-core, and checks that it renders
 * offline: every plot a non-empty SVG, the summary and figures tables with the expected rows, no
 * request leaving the page. Writes a screenshot to docs/img/report.png for people.
 */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { renderBuildHtml } from '../../src/report/build-page.js';
import { buildPage, type DeviceReport } from '../../src/export/report.js';
import type { HistoryEntry } from '../../src/export/history.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'build-report');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const tmp = mkdtempSync(join(tmpdir(), 'snc-report-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('the build report renders in headless Chromium: plots, tables, no network', async (t) => {
  t.true(existsSync(executablePath), `${executablePath} is missing: apt-get install chromium (.ci/run does)`);
  const reports: DeviceReport[] = readdirSync(fixtures)
    .filter((f) => f.endsWith('.report.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(fixtures, f), 'utf8')));
  const history: HistoryEntry[] = JSON.parse(readFileSync(join(fixtures, 'check-history.json'), 'utf8')).entries;
  const html = join(tmp, 'report.html');
  writeFileSync(html, renderBuildHtml(buildPage(reports, history, '2026-12-01T22:00:00.000Z')));

  const ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath, headless: true, args: FLAGS, viewport: { width: 1400, height: 1000 } });
  try {
    const foreign: string[] = [];
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    const page = await ctx.newPage();
    await page.goto(`file://${html}`);
    t.deepEqual(foreign, [], 'the report loads nothing from the network');

    t.is(await page.locator('table.summary tbody tr').count(), reports.length);
    for (const r of reports) {
      const section = page.locator(`section#device-${r.name}`);
      t.is(await section.count(), 1, r.name);
      t.regex((await section.locator('table.summary, table.figures').first().innerText()) ?? '', new RegExp(r.chosen.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      for (const cls of ['pareto', 'validation', 'history']) {
        const svg = section.locator(`figure.${cls} svg`);
        t.is(await svg.count(), 1, `${r.name} ${cls} plot`);
        const box = await svg.boundingBox();
        t.true(!!box && box.width > 100 && box.height > 100, `${r.name} ${cls} plot has a size`);
        t.true((await svg.locator('circle').count()) > 3, `${r.name} ${cls} plot has points`);
      }
      // the chosen subnet is ringed and named in the Pareto plot
      t.true((await section.locator('figure.pareto svg text', { hasText: r.chosen.key }).count()) >= 1, `${r.name}: chosen subnet labelled`);
      const checks = history.filter((h) => h.devices.some((d) => d.name === r.name)).length;
      t.is(await section.locator('table.history tbody tr').count(), checks);
    }
    mkdirSync(join(root, 'docs', 'img'), { recursive: true });
    await page.screenshot({ path: join(root, 'docs', 'img', 'report.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
});
