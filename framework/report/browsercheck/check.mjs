// Opens DIR/index.html of a certification bundle in Debian's headless Chromium (playwright-core
// drives /usr/bin/chromium; no browser is downloaded) and checks it as a person would look at it:
// the page loads without console or page errors and fetches nothing but itself, every host of
// summary.json has a picture and every guest a spec inspected has one, each drawn (non-empty
// box, with shapes). With --expect-remote, every failed spec that booted a guest must show a
// remote device in its picture. Writes a full-page screenshot to SHOT.
//
//   node check.mjs DIR SHOT [--expect-remote]
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, shot, ...flags] = process.argv.slice(2);
if (!dir || !shot) {
  console.error('usage: node check.mjs DIR SHOT [--expect-remote]');
  process.exit(2);
}
const expectRemote = flags.includes('--expect-remote');
const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
const guests = summary.specs.flatMap((s) => (s.guests || []).map(() => s.id));
const failedWithGuests = summary.specs.filter((s) => s.state === 'failed' && (s.guests || []).length > 0).map((s) => s.id);

const problems = [];
const profile = mkdtempSync(join(tmpdir(), 'hwcert-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  const url = pathToFileURL(resolve(dir, 'index.html')).href;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (r.url() !== url) problems.push(`the page fetched ${r.url()}: a bundle must be self-contained`); });
  const resp = await page.goto(url, { waitUntil: 'load' });
  if (!resp || !resp.ok()) problems.push(`loading ${url}: ${resp ? resp.status() : 'no response'}`);

  const pictures = await page.evaluate(() => [...document.querySelectorAll('figure.host-picture, figure.guest-picture')].map((f) => {
    const svg = f.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      kind: f.classList.contains('host-picture') ? 'host' : 'guest',
      name: f.id || f.dataset.spec,
      width: box.width, height: box.height,
      shapes: svg ? svg.querySelectorAll('rect').length : 0,
      texts: svg ? svg.querySelectorAll('text').length : 0,
      remote: svg ? svg.querySelectorAll('rect.remote').length : 0,
    };
  }));
  const hosts = pictures.filter((p) => p.kind === 'host');
  const guestPics = pictures.filter((p) => p.kind === 'guest');
  if (hosts.length !== summary.lab.hosts.length) problems.push(`${hosts.length} host pictures, expected one for each of the ${summary.lab.hosts.length} hosts`);
  if (guestPics.length !== guests.length) problems.push(`${guestPics.length} guest pictures, expected ${guests.length} (one per inspected guest)`);
  for (const p of pictures) {
    if (p.width < 50 || p.height < 50 || p.shapes < 3 || p.texts < 1) problems.push(`${p.kind} picture ${p.name} is empty: ${p.width}×${p.height}px, ${p.shapes} shapes, ${p.texts} texts`);
  }
  if (expectRemote) {
    if (failedWithGuests.length === 0) problems.push('--expect-remote: no failed spec booted a guest');
    for (const id of failedWithGuests) {
      if (!guestPics.some((p) => p.name === id && p.remote > 0)) problems.push(`failed spec ${id}: its picture shows no remote device`);
    }
  }
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`browsercheck ${dir}: ${hosts.length} host and ${guestPics.length} guest pictures drawn, ${failedWithGuests.length} failed specs with guests; screenshot ${shot}`);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems) console.error(`browsercheck ${dir}: ${p}`);
  process.exit(1);
}
